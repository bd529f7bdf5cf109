package routes

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// decodeKitchen decodes src into a kitchenConfig made as its factory makes
// it (ratio 0.5 by default) and returns it with the errors.
func decodeKitchen(t *testing.T, src string) (*kitchenConfig, string) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	rep := &report{file: "k.yaml"}
	cfg := &kitchenConfig{Ratio: 0.5}
	newDecoder(rep, nil).decode(doc.Content[0], reflect.ValueOf(cfg).Elem(), loc{})
	return cfg, render(rep.result(), "k.yaml")
}

func intp(i int) *int { return &i }

func TestDecodeValues(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want kitchenConfig
	}{
		{"every kind", `
label: l
ratio: 2.5
enabled: true
limit: 1MiB
window: 1m
nets: [10.0.0.1, 10.0.0.0/8]
prefix: 192.168.0.0/16
weights: { a: 1, b: -2 }
count: 3
small: 255
rules: [{ paths: [/a], deny: true }]
optional: { deny: true }
byname: { x: [1, 2] }
tree: { name: r, kids: [{ name: k }] }
`, kitchenConfig{
			Common: Common{Label: "l"}, Ratio: 2.5, Enabled: true, Limit: 1 << 20, Window: Duration(time.Minute),
			Nets:    []CIDR{CIDR(netip.MustParsePrefix("10.0.0.1/32")), CIDR(netip.MustParsePrefix("10.0.0.0/8"))},
			Prefix:  netip.MustParsePrefix("192.168.0.0/16"),
			Weights: map[string]int{"a": 1, "b": -2}, Count: intp(3), Small: 255,
			Rules:    []kitchenRule{{Paths: []string{"/a"}, Deny: true}},
			Optional: &kitchenRule{Deny: true},
			Byname:   map[string][]int{"x": {1, 2}},
			Tree:     &kitchenTree{Name: "r", Kids: []kitchenTree{{Name: "k"}}},
		}},
		{"null keeps the default", "ratio: ~\nlabel:\n", kitchenConfig{Ratio: 0.5}},
		{"quoted number", `small: "7"`, kitchenConfig{Ratio: 0.5, Small: 7}},
		{"decimal only", "small: 010", kitchenConfig{Ratio: 0.5, Small: 10}},
		{"alias", "rules: [&r { paths: [/a] }, *r]", kitchenConfig{Ratio: 0.5,
			Rules: []kitchenRule{{Paths: []string{"/a"}}, {Paths: []string{"/a"}}}}},
		{"written key beats merge", "optional: { <<: { deny: true, paths: [/m] }, paths: [/own] }",
			kitchenConfig{Ratio: 0.5, Optional: &kitchenRule{Deny: true, Paths: []string{"/own"}}}},
		{"earlier merge beats later", "optional: { <<: [{ paths: [/m1] }, { paths: [/m2], deny: true }] }",
			kitchenConfig{Ratio: 0.5, Optional: &kitchenRule{Deny: true, Paths: []string{"/m1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := decodeKitchen(t, tt.src+"\n")
			if errs != "" {
				t.Fatalf("got errors:\n%s", errs)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown key", "colour: red", `k.yaml:1:1: unknown key "colour"`},
		{"x- key in a plugin", "x-note: hi", `k.yaml:1:1: unknown key "x-note"`},
		{"infinite ratio", "ratio: .inf", `k.yaml:1:8: ratio: expected a number, got ".inf"`},
		{"nan ratio", "ratio: NaN", `k.yaml:1:8: ratio: expected a number, got "NaN"`},
		{"negative uint", "small: -1", `k.yaml:1:8: small: expected an integer, got "-1"`},
		{"hex int", "count: 0x10", `k.yaml:1:8: count: expected an integer, got "0x10"`},
		{"yes is not a boolean", "enabled: yes", `k.yaml:1:10: enabled: expected true or false, got "yes"`},
		{"list key", "? [a]\n: 1", `k.yaml:1:3: expected a string key, got a list`},
		{"number as a map key is its text", "weights: { 1: 1 }", ""},
		{"merge into itself", "optional: &o { <<: *o }", `k.yaml:1:20: optional: << merges a mapping into itself`},
		{"long scalar cut short", "count: " + "1234567890123456789012345678901234567890123",
			`k.yaml:1:8: count: 1234567890123456789012345678901234567890123 is out of range`},
		{"long string cut short", "count: abcdefghijabcdefghijabcdefghijabcdefghijXYZ",
			`k.yaml:1:8: count: expected an integer, got "abcdefghijabcdefghijabcdefghijabcdefghij…"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := decodeKitchen(t, tt.src+"\n")
			want := tt.want
			if want != "" {
				want += "\n"
			}
			if got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
