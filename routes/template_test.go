package routes

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTemplateMatch(t *testing.T) {
	tests := []struct {
		template string
		match    []string
		noMatch  []string
	}{
		{
			// Istio's AuthorizationPolicy test vectors.
			template: "/allow/admin/{**}",
			match:    []string{"/allow/admin/", "/allow/admin/temp", "/allow/admin/temp.txt", "/allow/admin/foo/temp.txt"},
			noMatch:  []string{"/allow/admin", "/allow/user/", "/allow", "/allow/adminx/", "/"},
		},
		{
			template: "/foo/{*}/bar/{**}",
			match:    []string{"/foo/buzz/bar/bat.txt", "/foo/buzz/bar/bat.temp.txt", "/foo/buzz/bar/bat/fuzz.txt", "/foo/buzz/bar/bat", "/foo/buzz/bar/"},
			noMatch:  []string{"/foo/bar/bat.txt", "/foo//bar/bat.txt", "/foo/buzz/bar", "/foo/a/b/bar/x"},
		},
		{
			template: "/store/{**}/cart",
			match:    []string{"/store//cart", "/store/foo/cart", "/store/foo/bar/cart", "/store/cart/cart"},
			noMatch:  []string{"/store/cart", "/store/foo/cart/", "/store/foocart", "/storex/foo/cart"},
		},
		{
			template: "/foo/{*}",
			match:    []string{"/foo/bar", "/foo/a=b", "/foo/*"},
			noMatch:  []string{"/foo/bar/baz", "/foo/", "/foo", "/foobar"},
		},
		{
			// Istio's text says /foo/bar/baz.txt matches too; Envoy's
			// matcher, which enforces it, does not match it.
			template: "/foo/{**}/",
			match:    []string{"/foo/bar/", "/foo//", "/foo/a/b/"},
			noMatch:  []string{"/foo/bar", "/foo/bar/baz.txt", "/foo/", "/foo"},
		},
		{
			template: "/users/{id}/orders/{*}",
			match:    []string{"/users/42/orders/7"},
			noMatch:  []string{"/users/42/orders/", "/users//orders/7", "/users/42/orders/7/x"},
		},
		{
			template: "/{**}",
			match:    []string{"/", "/a", "/a/b/"},
		},
		{
			template: "/{*}",
			match:    []string{"/a"},
			noMatch:  []string{"/", "/a/", "/a/b"},
		},
		{
			template: "/",
			match:    []string{"/"},
			noMatch:  []string{"/a", "//"},
		},
		{
			template: "/a/{**}/b/c",
			match:    []string{"/a//b/c", "/a/x/y/b/c"},
			noMatch:  []string{"/a/b/c", "/a/x/b/c/d"},
		},
	}
	for _, tt := range tests {
		tmpl, err := compileTemplate(tt.template)
		if err != nil {
			t.Fatalf("compileTemplate(%q): got %v, want nil", tt.template, err)
		}
		for _, p := range tt.match {
			t.Run(tt.template+" matches "+p, func(t *testing.T) {
				if !tmpl.match(p) {
					t.Errorf("got no match, want a match")
				}
			})
		}
		for _, p := range tt.noMatch {
			t.Run(tt.template+" rejects "+p, func(t *testing.T) {
				if tmpl.match(p) {
					t.Errorf("got a match, want none")
				}
			})
		}
	}
}

func TestCompileTemplateErrors(t *testing.T) {
	tests := []struct {
		name, template, want string
	}{
		{"relative", "foo/{*}", "must start with /"},
		{"operator with suffix", "/foo/{*}.txt", "whole segment"},
		{"operator with prefix", "/foo/x{**}", "whole segment"},
		{"bare star", "/foo/*", "whole segment"},
		{"bare double star", "/**/baz/{*}", "whole segment"},
		{"empty braces", "/{*}/foo/{}/bar", "whole segment"},
		{"unclosed", "/foo/{*", "whole segment"},
		{"bad name", "/foo/{1x}", "whole segment"},
		{"named glob", "/foo/{x=**}", "whole segment"},
		{"glob not last", "/{**}/foo/{*}", "last operator"},
		{"two globs", "/{**}/{**}", "last operator"},
		{"repeated name", "/{id}/{id}", "repeated"},
		{"dot segment", "/a/../{*}", "not in normal form"},
		{"encoded unreserved", "/%7euser/{*}", "not in normal form"},
		{"space", "/a b/{*}", "control character or space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileTemplate(tt.template)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("compileTemplate(%q): got %v, want an error containing %q", tt.template, err, tt.want)
			}
		})
	}
}

// FuzzTemplate checks the matcher against the regular expression Envoy's
// matcher builds from the same template, with {*} as any non-empty segment
// and {**} as any text.
func FuzzTemplate(f *testing.F) {
	for _, s := range [][2]string{
		{"/allow/admin/{**}", "/allow/admin/x"},
		{"/foo/{*}/bar/{**}", "/foo/buzz/bar/bat.txt"},
		{"/store/{**}/cart", "/store//cart"},
		{"/foo/{**}/", "/foo/bar/baz.txt"},
		{"/{id}/x/{*}", "/1/x/2"},
		{"/", "//"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, template, path string) {
		tmpl, err := compileTemplate(template)
		if err != nil {
			return
		}
		// regexp matches runes: it cannot hold a literal invalid byte, and
		// reads one in the path as U+FFFD.
		if !utf8.ValidString(template) || strings.ContainsRune(template, utf8.RuneError) {
			return
		}
		var re strings.Builder
		re.WriteString(`(?s)^`)
		for seg := range strings.SplitSeq(template[1:], "/") {
			re.WriteString("/")
			switch {
			case seg == "{**}":
				re.WriteString(".*")
			case strings.HasPrefix(seg, "{"):
				re.WriteString("[^/]+")
			default:
				re.WriteString(regexp.QuoteMeta(seg))
			}
		}
		re.WriteString("$")
		want := regexp.MustCompile(re.String()).MatchString(path)
		if got := tmpl.match(path); got != want {
			t.Fatalf("template %q on %q: got %v, want %v (as %s)", template, path, got, want, re.String())
		}
	})
}
