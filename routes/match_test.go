package routes

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// rule compiles m into a rule named name, failing the test on an error.
func rule(tb testing.TB, name string, m Match) *Rule {
	tb.Helper()
	rm, err := compileMatch(m)
	if err != nil {
		tb.Fatalf("compileMatch(%+v): got %v, want nil", m, err)
	}
	return &Rule{Name: name, match: rm}
}

func TestRuleMatch(t *testing.T) {
	get := http.Header{}
	tests := []struct {
		name   string
		match  Match
		path   string
		method string
		header http.Header
		want   bool
	}{
		{"no matcher", Match{}, "/anything", "GET", get, true},
		{"exact", Match{Path: "/a/b"}, "/a/b", "GET", get, true},
		{"exact no trailing slash", Match{Path: "/a/b"}, "/a/b/", "GET", get, false},
		{"exact is case-sensitive", Match{Path: "/a/b"}, "/A/b", "GET", get, false},
		{"prefix", Match{PathPrefix: "/api/"}, "/api/v1", "GET", get, true},
		{"prefix equal", Match{PathPrefix: "/api/"}, "/api/", "GET", get, true},
		{"prefix short", Match{PathPrefix: "/api/"}, "/api", "GET", get, false},
		{"prefix is segment-blind", Match{PathPrefix: "/api"}, "/apix", "GET", get, true},
		{"prefix with escape", Match{PathPrefix: "/a%2F"}, "/a%2Fb", "GET", get, true},
		{"template", Match{PathTemplate: "/users/{id}"}, "/users/7", "GET", get, true},
		{"template miss", Match{PathTemplate: "/users/{id}"}, "/users/7/x", "GET", get, false},
		{"method", Match{Methods: []string{"GET", "POST"}}, "/", "POST", get, true},
		{"method miss", Match{Methods: []string{"GET", "POST"}}, "/", "PUT", get, false},
		{"method is case-sensitive", Match{Methods: []string{"GET"}}, "/", "get", get, false},
		{"path and method both", Match{PathPrefix: "/a", Methods: []string{"GET"}}, "/b", "GET", get, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rule(t, tt.name, tt.match)
			if got := r.match.matches(tt.path, tt.method, tt.header); got != tt.want {
				t.Errorf("%+v on %s %s: got %v, want %v", tt.match, tt.method, tt.path, got, tt.want)
			}
		})
	}
}

func TestHeaderMatch(t *testing.T) {
	h := http.Header{
		"X-One":   {"abc"},
		"X-Two":   {"a", "b"},
		"X-Empty": {""},
	}
	tests := []struct {
		name string
		hm   HeaderMatch
		want bool
	}{
		{"exact", HeaderMatch{Name: "x-one", Exact: "abc"}, true},
		{"exact miss", HeaderMatch{Name: "x-one", Exact: "ab"}, false},
		{"exact inverted", HeaderMatch{Name: "x-one", Exact: "ab", Invert: true}, true},
		{"exact joins values", HeaderMatch{Name: "X-Two", Exact: "a,b"}, true},
		{"exact on absent", HeaderMatch{Name: "x-none", Exact: "abc"}, false},
		{"inverted on absent", HeaderMatch{Name: "x-none", Exact: "abc", Invert: true}, true},
		{"prefix", HeaderMatch{Name: "x-one", Prefix: "ab"}, true},
		{"prefix miss", HeaderMatch{Name: "x-one", Prefix: "b"}, false},
		{"regex is a full match", HeaderMatch{Name: "x-one", Regex: "b"}, false},
		{"regex", HeaderMatch{Name: "x-one", Regex: "a.c"}, true},
		{"regex alternation is anchored", HeaderMatch{Name: "x-one", Regex: "zzz|ab"}, false},
		{"regex on joined values", HeaderMatch{Name: "x-two", Regex: `a,\w`}, true},
		{"present", HeaderMatch{Name: "x-empty", Present: true}, true},
		{"present on absent", HeaderMatch{Name: "x-none", Present: true}, false},
		{"present inverted is absent", HeaderMatch{Name: "x-none", Present: true, Invert: true}, true},
		{"present inverted on present", HeaderMatch{Name: "x-one", Present: true, Invert: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rule(t, tt.name, Match{Headers: []HeaderMatch{tt.hm}})
			if got := r.match.matches("/", "GET", h); got != tt.want {
				t.Errorf("%+v: got %v, want %v", tt.hm, got, tt.want)
			}
		})
	}
}

func TestCompileMatchErrors(t *testing.T) {
	tests := []struct {
		name      string
		match     Match
		wantField string
	}{
		{"two path matchers", Match{Path: "/a", PathPrefix: "/a"}, "path_prefix"},
		{"path and template", Match{Path: "/a", PathTemplate: "/{*}"}, "path_template"},
		{"relative path", Match{Path: "a"}, "path"},
		{"path not normal", Match{Path: "/a/../b"}, "path"},
		{"path with lower escape", Match{Path: "/a%2f"}, "path"},
		{"relative prefix", Match{PathPrefix: "api"}, "path_prefix"},
		{"prefix with dot segment", Match{PathPrefix: "/a/./"}, "path_prefix"},
		{"prefix with encoded unreserved", Match{PathPrefix: "/%7e"}, "path_prefix"},
		{"prefix with lower escape", Match{PathPrefix: "/%2f"}, "path_prefix"},
		{"prefix with backslash", Match{PathPrefix: `/a\`}, "path_prefix"},
		{"prefix with space", Match{PathPrefix: "/a b"}, "path_prefix"},
		{"bad template", Match{PathTemplate: "/a/{*}.txt"}, "path_template"},
		{"empty method", Match{Methods: []string{"GET", ""}}, "methods[1]"},
		{"bad method", Match{Methods: []string{"GE T"}}, "methods[0]"},
		{"no header name", Match{Headers: []HeaderMatch{{Exact: "x"}}}, "headers[0].name"},
		{"pseudo header", Match{Headers: []HeaderMatch{{Name: ":path", Exact: "x"}}}, "headers[0].name"},
		{"host header", Match{Headers: []HeaderMatch{{Name: "host", Exact: "x"}}}, "headers[0].name"},
		{"no header kind", Match{Headers: []HeaderMatch{{Name: "a", Present: true}, {Name: "b"}}}, "headers[1]"},
		{"two header kinds", Match{Headers: []HeaderMatch{{Name: "a", Exact: "x", Prefix: "x"}}}, "headers[0]"},
		{"bad regex", Match{Headers: []HeaderMatch{{Name: "a", Present: true}, {Name: "b", Regex: "("}}}, "headers[1].regex"},
		{"regex unbalanced to escape anchors", Match{Headers: []HeaderMatch{{Name: "a", Regex: "x)|(.*"}}}, "headers[0].regex"},
		{"backreference", Match{Headers: []HeaderMatch{{Name: "a", Regex: `(a)\1`}}}, "headers[0].regex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileMatch(tt.match)
			fe, ok := err.(*fieldError)
			if !ok {
				t.Fatalf("compileMatch(%+v): got %v, want a *fieldError", tt.match, err)
			}
			if fe.field != tt.wantField {
				t.Errorf("compileMatch(%+v): got field %q (%v), want %q", tt.match, fe.field, fe, tt.wantField)
			}
		})
	}
}

func TestCompileMatchValidPrefixes(t *testing.T) {
	for _, p := range []string{"/", "/api", "/api/", "/.", "/..", "/a/.well", "/a%2", "/a%", "/a%2F", "/a//"} {
		t.Run(p, func(t *testing.T) {
			if _, err := compileMatch(Match{PathPrefix: p}); err != nil {
				t.Errorf("compileMatch(path_prefix %q): got %v, want nil", p, err)
			}
		})
	}
}

func TestTableMatch(t *testing.T) {
	shop := &Host{Name: "shop"}
	shop.Rules = []*Rule{
		rule(t, "admin", Match{PathPrefix: "/admin/", Headers: []HeaderMatch{{Name: "X-Admin", Present: true}}}),
		rule(t, "api-get", Match{PathPrefix: "/api/", Methods: []string{"GET"}}),
		rule(t, "api", Match{PathPrefix: "/api/"}),
		rule(t, "home", Match{Path: "/"}),
	}
	empty := &Host{Name: "empty"}
	tb := buildTable([]*Host{shop, empty}, [][]string{{"shop.example.com"}, {"*.empty.example"}}, PathOptions{MergeSlashes: true})
	admin := http.Header{"X-Admin": {"1"}}
	tests := []struct {
		name, authority, path, method string
		header                        http.Header
		wantRule, wantHost            string
	}{
		{"first rule wins", "shop.example.com", "/api/x", "GET", nil, "api-get", "shop"},
		{"next rule", "shop.example.com", "/api/x", "POST", nil, "api", "shop"},
		{"header", "Shop.Example.com:443", "/admin/x", "GET", admin, "admin", "shop"},
		{"header missing", "shop.example.com", "/admin/x", "GET", nil, "", "shop"},
		{"exact", "shop.example.com", "/", "GET", nil, "home", "shop"},
		{"host without rules", "a.empty.example", "/", "GET", nil, "", "empty"},
		{"no host", "other.example", "/", "GET", nil, "", ""},
		{"invalid authority", "evil@shop.example.com", "/", "GET", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, h := tb.Match(tt.authority, tt.path, tt.method, tt.header)
			gotRule, gotHost := "", ""
			if r != nil {
				gotRule = r.Name
			}
			if h != nil {
				gotHost = h.Name
			}
			if gotRule != tt.wantRule || gotHost != tt.wantHost {
				t.Errorf("Match(%q, %q, %q): got rule %q host %q, want rule %q host %q",
					tt.authority, tt.path, tt.method, gotRule, gotHost, tt.wantRule, tt.wantHost)
			}
		})
	}
	if got := tb.Paths(); !got.MergeSlashes {
		t.Errorf("Paths(): got %+v, want MergeSlashes", got)
	}
}

// bigTable is 50 virtual hosts of 20 rules each, every rule a prefix, a
// template or an exact path with a method and a header.
func bigTable(tb testing.TB) *Table {
	hosts := make([]*Host, 50)
	names := make([][]string, 50)
	for i := range hosts {
		hosts[i] = &Host{Name: fmt.Sprintf("h%d", i)}
		names[i] = []string{fmt.Sprintf("h%d.example.com", i), fmt.Sprintf("*.h%d.example.com", i)}
		for j := range 20 {
			var m Match
			switch j % 3 {
			case 0:
				m = Match{PathPrefix: fmt.Sprintf("/svc%d/", j), Methods: []string{"GET", "POST"}}
			case 1:
				m = Match{PathTemplate: fmt.Sprintf("/svc%d/{id}/items/{**}", j)}
			case 2:
				m = Match{Path: fmt.Sprintf("/svc%d", j), Headers: []HeaderMatch{{Name: "x-tenant", Exact: "blue"}}}
			}
			hosts[i].Rules = append(hosts[i].Rules, rule(tb, fmt.Sprintf("r%d", j), m))
		}
	}
	return buildTable(hosts, names, PathOptions{})
}

func TestMatchNoAllocs(t *testing.T) {
	tb := bigTable(t)
	h := http.Header{"X-Tenant": {"blue"}}
	allocs := testing.AllocsPerRun(100, func() {
		if r, _ := tb.Match("api.h49.example.com:443", "/svc19/7/items/a/b", "GET", h); r == nil || r.Name != "r19" {
			t.Fatalf("got %v, want r19", r)
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocations, want 0", allocs)
	}
}

func BenchmarkMatch(b *testing.B) {
	tb := bigTable(b)
	h := http.Header{"X-Tenant": {"blue"}, "User-Agent": {"bench"}}
	for _, bm := range []struct{ name, authority, path string }{
		{"exact host, last rule", "h49.example.com", "/svc19/7/items/a/b"},
		{"wildcard host, last rule", "API.h49.example.com:443", "/svc19/7/items/a/b"},
		{"exact path with header", "h25.example.com", "/svc17"},
		{"no rule", "h0.example.com", "/nothing"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tb.Match(bm.authority, bm.path, "GET", h)
			}
		})
	}
}

func TestHostAllowed(t *testing.T) {
	h := &Host{Name: "shop"}
	h.Rules = []*Rule{
		rule(t, "read", Match{PathPrefix: "/api/", Methods: []string{"GET", "HEAD"}}),
		rule(t, "write", Match{Path: "/api/items", Methods: []string{"POST", "GET"}}),
		rule(t, "admin", Match{PathPrefix: "/admin/", Methods: []string{"PUT"}, Headers: []HeaderMatch{{Name: "X-Admin", Present: true}}}),
	}
	tests := []struct {
		name, path string
		header     http.Header
		want       []string
	}{
		{"two rules, each method once", "/api/items", nil, []string{"GET", "HEAD", "POST"}},
		{"one rule", "/api/other", nil, []string{"GET", "HEAD"}},
		{"headers still count", "/admin/x", http.Header{"X-Admin": {"1"}}, []string{"PUT"}},
		{"a header missing", "/admin/x", nil, nil},
		{"no path", "/elsewhere", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.Allowed(tt.path, tt.header); !slices.Equal(got, tt.want) {
				t.Errorf("Allowed(%q): got %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}
