package metrics

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHostLabel(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "shop.example.com", "shop.example.com"},
		{"port", "shop.example.com:8443", "shop.example.com"},
		{"upper case", "SHOP.Example.com", "shop.example.com"},
		{"ipv4", "10.0.0.1:80", "10.0.0.1"},
		{"ipv6", "[2001:DB8::1]:443", "[2001:db8::1]"},
		{"ipv6 no port", "[::1]", "[::1]"},
		{"underscore", "my_svc.local", "my_svc.local"},
		{"empty", "", ""},
		{"port only", ":8080", ""},
		{"unclosed ipv6", "[::1", ""},
		{"ipv6 trailing junk", "[::1]x", ""},
		{"bare ipv6", "::1", ""},
		{"slash", "a.com/x", ""},
		{"space", "a b.com", ""},
		{"control byte", "a\x00.com", ""},
		{"non-ascii", "bücher.example", ""},
		{"invalid utf-8", "a\xff.com", ""},
		{"brackets inside", "a[b].com", ""},
		{"quote", `a".com`, ""},
		{"too long", strings.Repeat("a", maxHostLen+1), ""},
		{"longest", strings.Repeat("a", maxHostLen), strings.Repeat("a", maxHostLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hostLabel(tt.in); got != tt.want {
				t.Errorf("hostLabel(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHostSetBound(t *testing.T) {
	s := hostSet{seen: make(map[string]string), max: 2}
	tests := []struct{ in, want string }{
		{"a.com", "a.com"},
		{"b.com", "b.com"},
		{"c.com", "unknown"},
		{"a.com", "a.com"},
		{"", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := s.label(tt.in); got != tt.want {
				t.Errorf("label(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzHostLabel checks that no Host header yields a label value that is
// invalid UTF-8, too long, upper case or carries a byte outside host syntax.
func FuzzHostLabel(f *testing.F) {
	for _, s := range []string{"shop.example.com:8443", "[::1]:80", "A.B", "", ":", "[", "]", "a\xff", "[::1]]:1", "x:y:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := hostLabel(in)
		if got == "" {
			return
		}
		if !utf8.ValidString(got) || len(got) > maxHostLen || got != strings.ToLower(got) {
			t.Fatalf("hostLabel(%q) = %q: invalid label", in, got)
		}
		if strings.ContainsAny(got, "/ \t\"<>{}\\,=") {
			t.Fatalf("hostLabel(%q) = %q: byte outside host syntax", in, got)
		}
		if strings.ContainsAny(got, "[]:") && got[0] != '[' {
			t.Fatalf("hostLabel(%q) = %q: port or bracket left in a name", in, got)
		}
		if hostLabel(got) != got {
			t.Fatalf("hostLabel(%q) = %q, not a fixed point", in, got)
		}
	})
}
