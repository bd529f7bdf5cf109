package plugins

import (
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// FuzzHeaderNames checks the header view's name handling against
// textproto's, for any name: the stack canonicalisation writes what
// textproto writes, a field stored under its canonical key is found by any
// spelling of its case, and Del leaves no spelling a backend would read as
// the name.
func FuzzHeaderNames(f *testing.F) {
	for _, s := range []string{
		"content-type", "X-API-KEY", "x_api_key", "X-Forwarded-For", "bad name", "", "-", "--x", "x-", "ü-key",
		"a\x00b", "Host", "x-internal_debug", strings.Repeat("a-", 40), "ß", "X-\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		key := textproto.CanonicalMIMEHeaderKey(name)
		var buf [maxStackName]byte
		if got, ok := canonicalName(buf[:0], name); ok && string(got) != key {
			t.Fatalf("canonicalName(%q) = %q, textproto gives %q", name, got, key)
		}
		h := http.Header{key: {"v"}}
		for _, spelling := range []string{name, strings.ToLower(name), strings.ToUpper(name), key} {
			if textproto.CanonicalMIMEHeaderKey(spelling) != key {
				continue // a case change can make a name valid or not
			}
			if got := (stdHeader{&headerRef{m: &h}}).Get(spelling); got != "v" {
				t.Fatalf("Get(%q) = %q for a field stored as %q, want v", spelling, got, key)
			}
		}
		h = http.Header{
			key:                                  {"1"},
			strings.ToLower(name):                {"2"},
			strings.ReplaceAll(key, "-", "_"):    {"3"},
			strings.ReplaceAll(name, "_", "-"):   {"4"},
			"X-Other-Field-That-Stays-" + "Here": {"5"},
		}
		(stdHeader{&headerRef{m: &h}}).Del(name)
		for k := range h {
			if SameHeaderName(k, name) {
				t.Fatalf("Del(%q) left %q", name, k)
			}
		}
		if h["X-Other-Field-That-Stays-Here"] == nil && !SameHeaderName(name, "X-Other-Field-That-Stays-Here") {
			t.Fatalf("Del(%q) removed another field", name)
		}

		// A view that has learnt its map holds no other spellings must
		// notice the one it writes itself.
		h = http.Header{"Accept": {"*/*"}}
		v := stdHeader{&headerRef{m: &h}}
		v.Del("X-Absent")
		v.Add(name, "1")
		v.Add(strings.ToLower(name), "2")
		v.Add(strings.ReplaceAll(name, "-", "_"), "3")
		v.Del(name)
		for k := range h {
			if SameHeaderName(k, name) {
				t.Fatalf("Del(%q) after writes left %q", name, k)
			}
		}

		// Nor the spellings a Del or Set of a name written with '_'
		// reaches, nor a field Set stores under such a name.
		under := strings.ReplaceAll(name, "-", "_")
		h = http.Header{"Accept": {"*/*"}, key: {"1"}}
		v = stdHeader{&headerRef{m: &h}}
		v.Del("X-Absent")
		v.Del(under)
		v.Set(under, "2")
		v.Del(name)
		for k := range h {
			if SameHeaderName(k, name) {
				t.Fatalf("Del(%q), Set(%q), Del(%q) left %q", under, under, name, k)
			}
		}
	})
}
