package routes

import "testing"

// TestRoutePathsEitherSpelling checks that a route path holding bytes a URL
// path may hold only escaped matches requests that send them raw or escaped,
// whichever way the routes file spells them: both are compared in the form
// NormalizePath gives.
func TestRoutePathsEitherSpelling(t *testing.T) {
	matches := []struct {
		name  string
		match Match
	}{
		{"exact raw", Match{Path: "/caf\xc3\xa9/{id}"}},
		{"exact escaped", Match{Path: "/caf%C3%A9/%7Bid%7D"}},
		{"prefix raw", Match{PathPrefix: "/caf\xc3\xa9/{"}},
		{"prefix escaped", Match{PathPrefix: "/caf%C3%A9/%7B"}},
		{"template raw", Match{PathTemplate: "/caf\xc3\xa9/{*}"}},
		{"template escaped", Match{PathTemplate: "/caf%C3%A9/{*}"}},
	}
	requests := []string{"/caf\xc3\xa9/{id}", "/caf%c3%a9/%7bid%7d", "/caf\xc3%A9/{id%7D", "/x/../caf\xc3\xa9/{id}"}
	for _, m := range matches {
		r := rule(t, m.name, m.match)
		for _, req := range requests {
			p, err := NormalizePath(req, keep)
			if err != nil {
				t.Fatalf("NormalizePath(%q): %v", req, err)
			}
			if !r.match.matches(p, "GET", nil) {
				t.Errorf("%s %+v: request %q (normalised %q): got no match, want a match", m.name, m.match, req, p)
			}
		}
	}
}

func TestRewriteEscapesRawBytes(t *testing.T) {
	r := rule(t, "r", Match{PathPrefix: "/api/"})
	r.PrefixRewrite = "/v2/{x}/"
	p, err := NormalizePath("/api/\xc3\xa9", keep)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := r.Rewrite(p); got != "/v2/%7Bx%7D/%C3%A9" || !ok {
		t.Errorf("Rewrite(%q): got %q, %v, want %q, true", p, got, ok, "/v2/%7Bx%7D/%C3%A9")
	}
}
