package plugintest

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
)

// CheckHeader checks that a plugins.Header implementation keeps the
// contract: names compared without regard to case, values in order, Del and
// Set reaching every spelling, shared values never written into. empty
// returns a new header with no fields. Every engine's header view runs it.
func CheckHeader(t *testing.T, empty func() plugins.Header) {
	t.Helper()
	fields := func(h plugins.Header) map[string][]string {
		got := map[string][]string{}
		h.Each(func(name, value string) bool {
			k := strings.ToLower(name)
			got[k] = append(got[k], value)
			return true
		})
		return got
	}
	tests := []struct {
		name string
		edit func(h plugins.Header)
		want map[string][]string // lower-case names
	}{
		{"add keeps order", func(h plugins.Header) {
			h.Add("X-A", "1")
			h.Add("x-a", "2")
			h.Add("X-a", "3")
		}, map[string][]string{"x-a": {"1", "2", "3"}}},
		{"set replaces every value", func(h plugins.Header) {
			h.Add("X-A", "1")
			h.Add("X-A", "2")
			h.Set("x-a", "3")
		}, map[string][]string{"x-a": {"3"}}},
		{"set replaces every spelling", func(h plugins.Header) {
			h.Add("X_A", "forged")
			h.Add("X-A", "old")
			h.Add("X-AB", "keep")
			h.Set("x-a", "new")
		}, map[string][]string{"x-a": {"new"}, "x-ab": {"keep"}}},
		{"del removes every spelling", func(h plugins.Header) {
			h.Add("X_Internal_Debug", "1")
			h.Add("x-internal_debug", "2")
			h.Add("X-Internal-Debug", "3")
			h.Add("X-Internal-Debugger", "keep")
			h.Del("x-internal-debug")
		}, map[string][]string{"x-internal-debugger": {"keep"}}},
		{"del absent", func(h plugins.Header) {
			h.Add("Keep", "k")
			h.Del("X-Missing")
		}, map[string][]string{"keep": {"k"}}},
		{"add values to absent", func(h plugins.Header) {
			h.AddValues("X-A", []string{"1", "2"})
		}, map[string][]string{"x-a": {"1", "2"}}},
		{"add values to present", func(h plugins.Header) {
			h.Add("X-A", "0")
			h.AddValues("x-a", []string{"1"})
		}, map[string][]string{"x-a": {"0", "1"}}},
		{"empty value", func(h plugins.Header) {
			h.Set("X-Empty", "")
		}, map[string][]string{"x-empty": {""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := empty()
			tt.edit(h)
			got := fields(h)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got fields %q, want %q", got, tt.want)
			}
			n := 0
			for _, vs := range tt.want {
				n += len(vs)
			}
			if h.Len() != n {
				t.Errorf("got Len %d, want %d", h.Len(), n)
			}
		})
	}

	t.Run("reads ignore case", func(t *testing.T) {
		h := empty()
		h.Add("Content-Type", "text/plain")
		h.Add("X-Multi", "a")
		h.Add("X-Multi", "b")
		for _, name := range []string{"Content-Type", "content-type", "CONTENT-TYPE", "cOnTeNt-TyPe"} {
			if got := h.Get(name); got != "text/plain" {
				t.Errorf("Get(%q): got %q, want text/plain", name, got)
			}
		}
		if got := h.Values("x-multi"); !slices.Equal(got, []string{"a", "b"}) {
			t.Errorf("got Values %q, want [a b]", got)
		}
		if got := h.Values("X_Multi"); got != nil {
			t.Errorf("got Values(X_Multi) %q, want nil: reads name one spelling", got)
		}
		if got, vs := h.Get("X-Absent"), h.Values("X-Absent"); got != "" || vs != nil {
			t.Errorf("got %q and %q for an absent field, want empty and nil", got, vs)
		}
	})

	t.Run("each stops", func(t *testing.T) {
		h := empty()
		h.Add("X-A", "1")
		h.Add("X-A", "2")
		h.Add("X-B", "3")
		calls := 0
		h.Each(func(string, string) bool { calls++; return false })
		if calls != 1 {
			t.Errorf("got %d calls after the first returned false, want 1", calls)
		}
	})

	t.Run("shared values are never written into", func(t *testing.T) {
		shared := make([]string, 1, 8) // spare capacity a careless Add would use
		shared[0] = "prod"
		a, b := empty(), empty()
		a.SetValues("X-Env", shared)
		b.SetValues("X-Env", shared)
		a.Add("X-Env", "from-a")
		b.AddValues("X-Env", []string{"from-b"})
		if got := a.Values("X-Env"); !slices.Equal(got, []string{"prod", "from-a"}) {
			t.Errorf("got a %q, want [prod from-a]", got)
		}
		if got := b.Values("X-Env"); !slices.Equal(got, []string{"prod", "from-b"}) {
			t.Errorf("got b %q, want [prod from-b]", got)
		}
		if got := shared[:2]; got[1] != "" {
			t.Errorf("got the shared slice written into: %q", got)
		}
	})
}
