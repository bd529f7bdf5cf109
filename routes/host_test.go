package routes

import (
	"strings"
	"testing"
)

func TestValidHostPattern(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		wantErr string // "" means valid
	}{
		{"exact", "example.com", ""},
		{"upper case", "Shop.Example.COM", ""},
		{"single label", "localhost", ""},
		{"digits and hyphens", "a-1.b2.example", ""},
		{"wildcard", "*.example.com", ""},
		{"wildcard over one label", "*.local", ""},
		{"default", "*", ""},
		{"ipv4", "10.0.0.1", ""},
		{"ipv6", "::1", ""},
		{"ipv6 full", "2001:db8::8a2e:370:7334", ""},
		{"longest name", strings.Repeat("a.", 126) + "a", ""},
		{"empty", "", "empty"},
		{"too long", strings.Repeat("a.", 126) + "ab", "longer than 253"},
		{"long label", strings.Repeat("a", 64) + ".com", "longer than 63"},
		{"port", "example.com:80", "ports are not allowed"},
		{"wildcard with port", "*.example.com:443", "ports are not allowed"},
		{"bracketed ipv6", "[::1]", "without brackets"},
		{"ipv6 with zone", "fe80::1%eth0", "not an IPv6 address"},
		{"bad ipv6", "1:2:3", "not an IPv6 address"},
		{"empty label", "a..example.com", "empty label"},
		{"trailing dot", "example.com.", "empty label"},
		{"leading dot", ".example.com", "empty label"},
		{"wildcard suffix only", "*.", "empty label"},
		{"star in middle", "a.*.example.com", "whole first label"},
		{"star glued", "*example.com", "whole first label"},
		{"partial star label", "a*.example.com", "whole first label"},
		{"two stars", "*.*.example.com", "whole first label"},
		{"underscore", "a_b.example.com", "only letters, digits and hyphens"},
		{"at sign", "evil.com@example.com", "only letters, digits and hyphens"},
		{"space", "exa mple.com", "only letters, digits and hyphens"},
		{"unicode", "bücher.example", "only letters, digits and hyphens"},
		{"leading hyphen", "-a.example.com", "hyphen"},
		{"numeric tld", "example.123", "neither a DNS name nor an IPv4"},
		{"short ipv4", "10.0.0", "neither a DNS name nor an IPv4"},
		{"wildcard over ipv4", "*.0.0.1", "neither a DNS name nor an IPv4"},
		{"ipv4 leading zero", "010.0.0.1", "neither a DNS name nor an IPv4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validHostPattern(tt.pattern)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("validHostPattern(%q): got %v, want nil", tt.pattern, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("validHostPattern(%q): got %v, want an error containing %q", tt.pattern, err, tt.wantErr)
			}
		})
	}
}

// hostTable builds a table whose virtual hosts are named by their first
// pattern.
func hostTable(patterns ...[]string) *Table {
	hosts := make([]*Host, len(patterns))
	for i, p := range patterns {
		hosts[i] = &Host{Name: p[0]}
	}
	return buildTable(hosts, patterns, PathOptions{})
}

func TestBuildTable(t *testing.T) {
	tb := hostTable(
		[]string{"*.com", "Example.COM"},
		[]string{"*.b.example.com", "2001:DB8:0:0::1"},
		[]string{"*.example.com", "example.com", "*"},
		[]string{"*"},
	)
	var got []string
	for _, w := range tb.wildcards {
		got = append(got, w.suffix+"="+w.host.Name)
	}
	if want := ".b.example.com=*.b.example.com .example.com=*.example.com .com=*.com"; strings.Join(got, " ") != want {
		t.Errorf("wildcards: got %q, want %q", strings.Join(got, " "), want)
	}
	if h := tb.exact["example.com"]; h == nil || h.Name != "*.com" {
		t.Errorf("exact example.com: got %v, want the first host that lists it", h)
	}
	if h := tb.exact["2001:db8::1"]; h == nil || h.Name != "*.b.example.com" {
		t.Errorf("exact 2001:db8::1: got %v, want the address in canonical form", h)
	}
	if tb.fallback == nil || tb.fallback.Name != "*.example.com" {
		t.Errorf("fallback: got %v, want the first host that lists *", tb.fallback)
	}
}
