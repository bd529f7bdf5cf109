package plugins_test

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
)

type inner struct {
	Token string `yaml:"token" secret:"true"`
	Note  string `yaml:"note"`
}

type Embedded struct {
	Shared string `yaml:"shared"`
}

type displayConfig struct {
	Embedded
	Plain    string            `yaml:"plain"`
	Untagged string            // yaml's default name: untagged
	Skipped  string            `yaml:"-"`
	Set      map[string]string `yaml:"set" secret:"true"`
	List     []int             `yaml:"list" secret:"true"`
	Empty    string            `yaml:"empty" secret:"true"`
	On       bool              `yaml:"on" secret:"true"`
	Ptr      *inner            `yaml:"ptr"`
	NilPtr   *inner            `yaml:"nil_ptr"`
	Inline   inner             `yaml:",inline"`
	Whole    inner             `yaml:"whole" secret:"true"`
	Addr     netip.Addr        `yaml:"addr"`
	Hidden   netip.Addr        `yaml:"hidden" secret:"true"`
	Wait     time.Duration     `yaml:"wait"`
	Expiry   time.Duration     `yaml:"expiry" secret:"true"`
	Any      any               `yaml:"any" secret:"true"`
	ByNum    map[int]string    `yaml:"by_num"`
	private  string
}

func TestDisplay(t *testing.T) {
	cfg := &displayConfig{
		Embedded: Embedded{Shared: "s"},
		Plain:    "p", Untagged: "u", Skipped: "x",
		Set:     map[string]string{"x-api-key": "k", "cookie": "c"},
		List:    []int{1, 2},
		On:      true,
		Ptr:     &inner{Token: "t", Note: "n"},
		Inline:  inner{Token: "it", Note: "in"},
		Whole:   inner{Token: "wt", Note: "wn"},
		Addr:    netip.MustParseAddr("10.0.0.1"),
		Hidden:  netip.MustParseAddr("10.0.0.2"),
		Wait:    time.Second,
		Expiry:  time.Hour,
		Any:     map[string]any{"deep": []any{"v", 3.5}},
		ByNum:   map[int]string{7: "seven"},
		private: "q",
	}
	b, err := json.Marshal(plugins.Display(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	r := plugins.Redacted
	want := map[string]any{
		"shared": "s", "plain": "p", "untagged": "u",
		"set":     map[string]any{"x-api-key": r, "cookie": r},
		"list":    []any{r, r},
		"empty":   "",
		"on":      true,
		"ptr":     map[string]any{"token": r, "note": "n"},
		"nil_ptr": nil,
		"token":   r, "note": "in",
		"whole":  map[string]any{"token": r, "note": r},
		"addr":   "10.0.0.1",
		"hidden": r,
		"wait":   "1s",
		"expiry": r,
		"any":    map[string]any{"deep": []any{r, r}},
		"by_num": map[string]any{"7": "seven"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %s,\nwant %v", b, want)
	}
	if cfg.Set["x-api-key"] != "k" || cfg.Ptr.Token != "t" {
		t.Errorf("Display changed its input: %+v", cfg)
	}
}

func TestDisplayEdges(t *testing.T) {
	type cycle struct {
		Next *cycle `yaml:"next"`
	}
	c := &cycle{}
	c.Next = c
	tests := []struct {
		name string
		in   any
	}{
		{"nil", nil},
		{"nil pointer", (*inner)(nil)},
		{"cycle", c},
		{"func", struct{ F func() }{func() {}}},
		{"channel", map[string]any{"c": make(chan int)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := json.Marshal(plugins.Display(tt.in)); err != nil {
				t.Errorf("got %v, want a value that marshals", err)
			}
		})
	}
}
