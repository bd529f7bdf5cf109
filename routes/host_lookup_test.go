package routes

import (
	"strings"
	"testing"
)

func lookupTable() *Table {
	return hostTable(
		[]string{"example.com", "www.example.com"},
		[]string{"*.example.com"},
		[]string{"*.api.example.com"},
		[]string{"127.0.0.1", "::1", "2001:db8::1"},
		[]string{"*"},
	)
}

func TestTableHost(t *testing.T) {
	tb := lookupTable()
	tests := []struct {
		name      string
		authority string
		want      string // the host's name; "" means none
	}{
		{"exact", "example.com", "example.com"},
		{"exact second name", "www.example.com", "example.com"},
		{"upper case", "EXAMPLE.com", "example.com"},
		{"trailing dot", "EXAMPLE.com.", "example.com"},
		{"port", "example.com:8443", "example.com"},
		{"trailing dot and port", "example.com.:80", "example.com"},
		{"empty port", "example.com:", "example.com"},
		{"wildcard", "a.example.com", "*.example.com"},
		{"wildcard deeper", "a.b.example.com", "*.example.com"},
		{"longest wildcard", "v1.api.example.com", "*.api.example.com"},
		{"wildcard suffix itself", "api.example.com", "*.example.com"},
		{"underscore under wildcard", "a_b.example.com", "*.example.com"},
		{"wildcard is not a bare suffix", "xexample.com", "*"},
		{"not a subdomain", "example.com.evil.com", "*"},
		{"unknown", "other.org", "*"},
		{"ipv4", "127.0.0.1:8080", "127.0.0.1"},
		{"ipv6 with port", "[::1]:80", "127.0.0.1"},
		{"ipv6 bare brackets", "[::1]", "127.0.0.1"},
		{"ipv6 long form", "[2001:DB8:0:0:0:0:0:1]", "127.0.0.1"},
		{"unknown ipv6", "[::2]", "*"},
		{"empty", "", ""},
		{"port too big", "example.com:99999", ""},
		{"port too long", "example.com:000080", ""},
		{"port not digits", "example.com:http", ""},
		{"two ports", "example.com:80:80", ""},
		{"userinfo", "evil.com@example.com", ""},
		{"slash", "example.com/x", ""},
		{"space", "example .com", ""},
		{"two trailing dots", "example.com..", ""},
		{"leading dot", ".example.com", ""},
		{"empty label", "a..example.com", ""},
		{"dot only", ".", ""},
		{"unicode", "bücher.example.com", ""},
		{"unbracketed ipv6", "::1", ""},
		{"unclosed bracket", "[::1", ""},
		{"junk after bracket", "[::1]x", ""},
		{"empty brackets", "[]", ""},
		{"ipv4 in brackets", "[127.0.0.1]", ""},
		{"ipv6 zone", "[fe80::1%25eth0]", ""},
		{"too long", strings.Repeat("a.", 127) + "com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if h := tb.host(tt.authority); h != nil {
				got = h.Name
			}
			if got != tt.want {
				t.Errorf("host(%q): got %q, want %q", tt.authority, got, tt.want)
			}
		})
	}
}

func TestTableHostNoFallback(t *testing.T) {
	tb := hostTable([]string{"example.com"}, []string{"*.example.com"})
	for _, a := range []string{"other.org", "example.org", "com"} {
		t.Run(a, func(t *testing.T) {
			if h := tb.host(a); h != nil {
				t.Errorf("host(%q): got %q, want none", a, h.Name)
			}
		})
	}
}

func TestTableHostNoAllocs(t *testing.T) {
	tb := lookupTable()
	for _, a := range []string{"example.com", "Example.COM:8443", "a.b.api.example.com", "[2001:db8::1]:443", "other.org"} {
		t.Run(a, func(t *testing.T) {
			allocs := testing.AllocsPerRun(100, func() {
				if tb.host(a) == nil {
					t.Fatal("got no host")
				}
			})
			if allocs != 0 {
				t.Errorf("got %v allocations, want 0", allocs)
			}
		})
	}
}

func BenchmarkTableHost(b *testing.B) {
	tb := lookupTable()
	for _, a := range []string{"www.example.com", "WWW.Example.com:443", "v1.api.example.com", "[::1]:80"} {
		b.Run(a, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tb.host(a)
			}
		})
	}
}

// FuzzHostMatch checks that lookups ignore case, the port and one trailing
// dot, and that only well-formed authorities find a host.
func FuzzHostMatch(f *testing.F) {
	for _, s := range []string{
		"example.com", "EXAMPLE.com.", "a.api.example.com:8443", "[::1]:80", "[2001:db8::1]",
		"evil.com@example.com", "example.com:99999", "xexample.com", "bücher.example", "", ":", "[", "[]:",
	} {
		f.Add(s)
	}
	tb := lookupTable()
	f.Fuzz(func(t *testing.T, a string) {
		h := tb.host(a)
		if up := asciiUpper(a); tb.host(up) != h {
			t.Fatalf("host(%q) and host(%q): got different hosts, want the same", a, up)
		}
		if h == nil {
			return
		}
		if strings.ContainsAny(a, "@/ \\?#%") || strings.IndexFunc(a, func(r rune) bool { return r >= 0x80 }) >= 0 {
			t.Fatalf("host(%q): got %q, want none for a malformed authority", a, h.Name)
		}
		if a[0] != '[' && !strings.Contains(a, ":") {
			if tb.host(a+":443") != h {
				t.Fatalf("host(%q:443): got a different host than without the port", a)
			}
			if !strings.HasSuffix(a, ".") && tb.host(a+".") != h {
				t.Fatalf("host(%q.): got a different host than without the dot", a)
			}
		}
	})
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
