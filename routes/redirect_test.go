package routes

import "testing"

func TestRuleRewrite(t *testing.T) {
	tests := []struct {
		name     string
		match    Match
		rewrite  string
		path     string
		wantPath string
		climbs   bool // the result leaves the rewrite, so ok is false
	}{
		{"prefix to root drops a slash", Match{PathPrefix: "/api"}, "/", "/api/x", "/x", false},
		{"slash prefix to root", Match{PathPrefix: "/api/"}, "/", "/api/x", "/x", false},
		{"prefix alone to root", Match{PathPrefix: "/api"}, "/", "/api", "/", false},
		{"prefix to prefix", Match{PathPrefix: "/api"}, "/v2", "/api/x", "/v2/x", false},
		{"slash prefix to slash prefix", Match{PathPrefix: "/api/"}, "/v2/", "/api/x/y", "/v2/x/y", false},
		{"segment-blind as Envoy", Match{PathPrefix: "/api"}, "/v2/", "/apix", "/v2/x", false},
		{"escapes kept", Match{PathPrefix: "/api/"}, "/", "/api/a%2Fb", "/a%2Fb", false},
		{"rewrite cannot make a dot segment", Match{PathPrefix: "/a/b"}, "/c/", "/a/b.", "/c/", false},
		{"exact replaced whole", Match{Path: "/old"}, "/new", "/old", "/new", false},
		{"template unchanged", Match{PathTemplate: "/a/{*}"}, "/b", "/a/x", "/a/x", false},
		{"no path matcher unchanged", Match{}, "/b", "/a/x", "/a/x", false},
		{"no rewrite", Match{PathPrefix: "/api"}, "", "/api/x", "/api/x", false},
		{"a prefix ending inside a segment cannot climb out", Match{PathPrefix: "/api"}, "/public/", "/api../admin", "/admin", true},
		{"nor to the root", Match{PathPrefix: "/api"}, "/public/", "/api..", "/", true},
		{"a dot segment that stays inside", Match{PathPrefix: "/api"}, "/public/", "/api./x", "/public/x", false},
		{"raw bytes in the rewrite", Match{PathPrefix: "/api/"}, "/v2/{x}/", "/api/y", "/v2/%7Bx%7D/y", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rule(t, tt.name, tt.match)
			r.PrefixRewrite = tt.rewrite
			if got, ok := r.Rewrite(tt.path); got != tt.wantPath || ok == tt.climbs {
				t.Errorf("Rewrite(%q) with %+v to %q: got %q, %v; want %q, %v", tt.path, tt.match, tt.rewrite, got, ok, tt.wantPath, !tt.climbs)
			}
		})
	}
}

func TestRedirectLocation(t *testing.T) {
	tests := []struct {
		name                      string
		match                     Match
		redirect                  Redirect
		scheme, host, path, query string
		want                      string
	}{
		{"to https drops the port", Match{}, Redirect{Scheme: "https"},
			"http", "example.com:8080", "/a", "x=1", "https://example.com/a?x=1"},
		{"to https with a port", Match{}, Redirect{Scheme: "https", Port: 8443},
			"http", "example.com:8080", "/a", "", "https://example.com:8443/a"},
		{"same scheme keeps the port", Match{}, Redirect{Path: "/b"},
			"http", "example.com:8080", "/a", "x=1", "http://example.com:8080/b?x=1"},
		{"same scheme spelled in capitals keeps the port", Match{}, Redirect{Scheme: "HTTP"},
			"http", "example.com:8080", "/a", "", "http://example.com:8080/a"},
		{"host replaces the authority", Match{}, Redirect{Host: "other.example"},
			"https", "example.com:8443", "/a", "", "https://other.example/a"},
		{"host and port", Match{}, Redirect{Host: "other.example", Port: 9000},
			"https", "example.com:8443", "/a", "", "https://other.example:9000/a"},
		{"strip query", Match{}, Redirect{Scheme: "https", StripQuery: true},
			"http", "example.com", "/a", "x=1", "https://example.com/a"},
		{"prefix rewrite", Match{PathPrefix: "/old/"}, Redirect{PrefixRewrite: "/new/"},
			"https", "example.com", "/old/x/y", "q", "https://example.com/new/x/y?q"},
		{"ipv6 request", Match{}, Redirect{Scheme: "https"},
			"http", "[::1]:8080", "/a", "", "https://[::1]/a"},
		{"ipv6 request keeps port", Match{}, Redirect{Path: "/b"},
			"http", "[::1]:8080", "/a", "", "http://[::1]:8080/b"},
		{"ipv6 request without port", Match{}, Redirect{Path: "/b"},
			"http", "[::1]", "/a", "", "http://[::1]/b"},
		{"ipv6 redirect host", Match{}, Redirect{Host: "::1", Port: 8443},
			"http", "example.com", "/a", "", "http://[::1]:8443/a"},
		{"escaped slash kept", Match{}, Redirect{Scheme: "https"},
			"http", "example.com", "/a%2Fb", "", "https://example.com/a%2Fb"},
		{"raw bytes escaped", Match{}, Redirect{Scheme: "https"},
			"http", "example.com", "/caf\xc3\xa9/\"<x>\"", "", "https://example.com/caf%C3%A9/%22%3Cx%3E%22"},
		{"sub-delims kept", Match{}, Redirect{Scheme: "https"},
			"http", "example.com", "/a;b=c/@:!$&'()*+,", "", "https://example.com/a;b=c/@:!$&'()*+,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rule(t, tt.name, tt.match)
			r.Redirect = &tt.redirect
			if got := r.RedirectLocation(tt.scheme, tt.host, tt.path, tt.query); got != tt.want {
				t.Errorf("RedirectLocation(%q, %q, %q, %q) with %+v: got %q, want %q",
					tt.scheme, tt.host, tt.path, tt.query, tt.redirect, got, tt.want)
			}
		})
	}
}
