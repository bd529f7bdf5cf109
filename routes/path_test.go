package routes

import (
	"errors"
	"strings"
	"testing"
)

var (
	keep     = PathOptions{}
	merge    = PathOptions{MergeSlashes: true}
	reject   = PathOptions{EscapedSlashes: "reject"}
	unescape = PathOptions{EscapedSlashes: "unescape"}
)

func TestNormalizePath(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts PathOptions
		want string
	}{
		{"root", "/", keep, "/"},
		{"already normal", "/a/b/c.txt", keep, "/a/b/c.txt"},
		{"dot segments", "/a/./b/../c", keep, "/a/c"},
		{"dotdot at root", "/..", keep, "/"},
		{"many dotdots beyond root", "/../../../../etc/passwd", keep, "/etc/passwd"},
		{"dotdots beyond root at the end", "/a/../../..", keep, "/"},
		{"trailing dotdot", "/a/b/..", keep, "/a/"},
		{"trailing dot", "/a/.", keep, "/a/"},
		{"dot only", "/.", keep, "/"},
		{"istio parent", "/public/../private", keep, "/private"},
		{"istio dot parent", "/public/./../private", keep, "/private"},
		{"istio parent dot", "/public/.././private", keep, "/private"},
		{"istio encoded parent", "/public/%2E%2E/private", keep, "/private"},
		{"istio lower encoded parent", "/public/%2e%2e/private", keep, "/private"},
		{"istio encoded dot and parent", "/public/%2E/%2E%2E/private", keep, "/private"},
		{"istio back to public", "/public/../public", keep, "/public"},
		{"mixed encoded dots", "/a/.%2e/b", keep, "/b"},
		{"double encoding not decoded twice", "/a/%252e%252e/b", keep, "/a/%252e%252e/b"},
		{"double encoded upper-cased once", "/a/%252E%2e", keep, "/a/%252E."},
		{"semicolon is not special", "/a/b;c/d;x", keep, "/a/b;c/d;x"},
		{"parameters on a name with dots", "/a/...;x/.b;y", keep, "/a/...;x/.b;y"},
		{"dots in names stay", "/a/..b/.c/...", keep, "/a/..b/.c/..."},
		{"overlong utf-8 kept", "/a/%c0%ae%c0%ae/b", keep, "/a/%C0%AE%C0%AE/b"},
		{"unreserved decoded", "/%41%7a%30%39%2D%5F%7E", keep, "/Az09-_~"},
		{"reserved kept upper", "/a%3ab%3Fc%40", keep, "/a%3Ab%3Fc%40"},
		{"percent kept", "/100%25", keep, "/100%25"},
		{"control escapes kept", "/a%0d%0A", keep, "/a%0D%0A"},
		{"backslash", `/a\b\..\c`, keep, "/a/c"},
		{"backslash at root", `/\..\x`, keep, "/x"},
		{"double slash kept", "/a//b", keep, "/a//b"},
		{"double slash merged", "/a//b///c", merge, "/a/b/c"},
		{"leading slashes merged", "//a", merge, "/a"},
		{"trailing slashes merged", "/a//", merge, "/a/"},
		{"empty segment then dotdot", "/a//..", keep, "/a/"},
		{"empty segment then dotdot merged", "/a//..", merge, "/a/"},
		{"encoded slash kept", "/a%2fb%2F..%5cc", keep, "/a%2Fb%2F..%5Cc"},
		{"encoded slash unescaped", "/a%2fb", unescape, "/a/b"},
		{"encoded backslash unescaped", "/a%5Cb", unescape, "/a/b"},
		{"unescaped before dots", "/a/b%2F..%2F..%2Fc", unescape, "/c"},
		{"unescaped then merged", "/a%2F%2Fb", PathOptions{EscapedSlashes: "unescape", MergeSlashes: true}, "/a/b"},
		{"reject without slashes", "/a/%2e/b", reject, "/a/b"},
		{"unknown mode keeps", "/a%2fb", PathOptions{EscapedSlashes: "bogus"}, "/a%2Fb"},
		{"utf-8 escaped", "/caf\xc3\xa9", keep, "/caf%C3%A9"},
		{"utf-8 raw and escaped alike", "/caf\xc3%a9", keep, "/caf%C3%A9"},
		{"invalid utf-8 escaped", "/\xff\xc0\xae", keep, "/%FF%C0%AE"},
		{"braces escaped", "/{x}/*", keep, "/%7Bx%7D/*"},
		{"every byte a path holds only escaped", "/\"<>[]^`{|}", keep, "/%22%3C%3E%5B%5D%5E%60%7B%7C%7D"},
		{"escaped forms kept", "/%22%3c%3E%5b%5D%5E%60%7b%7C%7D", keep, "/%22%3C%3E%5B%5D%5E%60%7B%7C%7D"},
		{"sub-delimiters raw and escaped differ", "/!$&'()*+,;=:@/%21%3B", keep, "/!$&'()*+,;=:@/%21%3B"},
		{"escaped before dots", "/a/{/../b", keep, "/a/b"},
		{"escaped slash with a raw brace kept", "/{%2F..%2Fadmin", keep, "/%7B%2F..%2Fadmin"},
		{"escaped slash with a raw brace unescaped", "/x/{%2F..%2F..%2Fadmin", unescape, "/admin"},
		{"escaped slash with utf-8 unescaped", "/\xc3%2F..%2F..%2Fadmin", unescape, "/admin"},
		{"escaped semicolon kept", "/a%3Bb%3b", keep, "/a%3Bb%3B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePath(tt.in, tt.opts)
			if err != nil {
				t.Fatalf("NormalizePath(%q): got error %v, want %q", tt.in, err, tt.want)
			}
			if got != tt.want {
				t.Errorf("NormalizePath(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizePathErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts PathOptions
		want error
	}{
		{"empty", "", keep, ErrPathRelative},
		{"relative", "a/b", keep, ErrPathRelative},
		{"asterisk", "*", keep, ErrPathRelative},
		{"absolute url", "http://x/", keep, ErrPathRelative},
		{"backslash first", `\a`, keep, ErrPathRelative},
		{"escaped slash first", "%2Fa", unescape, ErrPathRelative},
		{"raw nul", "/a\x00b", keep, ErrPathNUL},
		{"escaped nul", "/a%00b", keep, ErrPathNUL},
		{"dotdot with parameters", "/a/..;/b", keep, ErrPathDotParams},
		{"dot with parameters", "/a/.;x=1/b", keep, ErrPathDotParams},
		{"escaped dotdot with parameters", "/a/%2E%2e;x/b", keep, ErrPathDotParams},
		{"dotdot with parameters after decoding slashes", "/a%2F..;/b", unescape, ErrPathDotParams},
		{"space", "/a b", keep, ErrPathControl},
		{"tab", "/a\tb", keep, ErrPathControl},
		{"newline", "/a\nb", keep, ErrPathControl},
		{"del", "/a\x7fb", keep, ErrPathControl},
		{"lone percent", "/a%", keep, ErrPathEscape},
		{"short escape", "/a%4", keep, ErrPathEscape},
		{"bad hex", "/a%zz", keep, ErrPathEscape},
		{"half bad hex", "/a%4g", keep, ErrPathEscape},
		{"percent percent", "/%%41", keep, ErrPathEscape},
		{"fragment", "/a#b", keep, ErrPathDelimiter},
		{"query", "/a?b", keep, ErrPathDelimiter},
		{"fragment after utf-8", "/\xc3\xa9#b", keep, ErrPathDelimiter},
		{"space after a brace", "/{ }", keep, ErrPathControl},
		{"escaped slash rejected", "/a%2Fb", reject, ErrEscapedSlash},
		{"lower escaped slash rejected", "/a%2fb", reject, ErrEscapedSlash},
		{"escaped backslash rejected", "/a%5cb", reject, ErrEscapedSlash},
		{"error after a change", "/a/../b%zz", keep, ErrPathEscape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePath(tt.in, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Errorf("NormalizePath(%q): got %q, %v, want error %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNormalizePathNoAllocs(t *testing.T) {
	for _, p := range []string{"/", "/api/v1/users/42", "/a%2Fb/%C0%AE/x.y", "/a//b"} {
		t.Run(p, func(t *testing.T) {
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := NormalizePath(p, keep); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("got %v allocations, want 0", allocs)
			}
		})
	}
}

func BenchmarkNormalizePath(b *testing.B) {
	for _, bm := range []struct{ name, path string }{
		{"normal", "/api/v1/users/42/orders"},
		{"dots", "/api/v1/../v2/./users/%2e%2e/42"},
		{"long", "/" + strings.Repeat("segment/", 32)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = NormalizePath(bm.path, merge)
			}
		})
	}
}

func TestNormalizeQuery(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"", "", nil},
		{"a=1&b=%zz&c=%41", "a=1&b=%zz&c=%41", nil},
		{"q={\"a\"}&\xff\\|^`[]<>", "q=%7B%22a%22%7D&%FF%5C%7C%5E%60%5B%5D%3C%3E", nil},
		{"a/?b;c:@!$'()*+,=", "a/?b;c:@!$'()*+,=", nil},
		{"a b", "", ErrQuery},
		{"a\tb", "", ErrQuery},
		{"a\x00", "", ErrQuery},
		{"a\x7f", "", ErrQuery},
		{"a#b", "", ErrQuery},
		{"a\r\nX: y", "", ErrQuery},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeQuery(tt.in)
			if got != tt.want || err != tt.err {
				t.Errorf("NormalizeQuery(%q): got %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
	if n := testing.AllocsPerRun(100, func() { NormalizeQuery("a=1&b=%41") }); n != 0 {
		t.Errorf("a query in normal form: %v allocations, want 0", n)
	}
}
