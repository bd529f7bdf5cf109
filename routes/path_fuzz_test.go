package routes

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzNormalizePath checks the properties routing relies on: the result is
// absolute, normalising it again changes nothing, and it holds no dot
// segment, no escaped unreserved character, no byte a path may hold only
// escaped and, when merging, no "//".
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{
		"/", "/a/./b/../c", "/public/%2E%2E/private", "/a/%252e%252e/b", "/a/..;/b",
		"/a/%c0%ae", `/a\..\b`, "/a//b", "/a%2Fb%5c", "/%2e%2E/%2e", "/a%", "/a%zz",
		"/a#b", "/a\x00", "/.%2e/..%2F..", "//..//.//", "/%7E%7e~",
		// Bytes a path holds only escaped, raw and escaped, next to
		// escaped slashes and dot segments.
		"/x/{%2F..%2F..%2Fadmin", "/\"<>[]^`{|}", "/%7b%7C%7D", "/caf\xc3\xa9%2F..", "/\xff\x80/%2e%2E/a",
		"/a%3Bb;c/..;/d", "/a%5C..%5Cb|", "//{x}//..", "/a b{", "/%E2%80%AE/..%2f",
	} {
		for mode := range 6 {
			f.Add(s, mode)
		}
	}
	f.Fuzz(func(t *testing.T, in string, mode int) {
		opts := PathOptions{
			MergeSlashes:   mode%2 == 1,
			EscapedSlashes: []string{"keep", "reject", "unescape"}[(mode&0xff)/2%3],
		}
		out, err := NormalizePath(in, opts)
		if err != nil {
			return
		}
		// The shortcut for normal paths must agree with the full work.
		if b, err := decodePath(in, opts.EscapedSlashes); err == nil {
			b = removeDotSegments(b)
			if opts.MergeSlashes {
				b = mergeSlashes(b)
			}
			if string(b) != out {
				t.Fatalf("NormalizePath(%q) = %q: got %q without the shortcut", in, out, b)
			}
		}
		if !strings.HasPrefix(out, "/") {
			t.Fatalf("NormalizePath(%q) = %q: got no leading /, want one", in, out)
		}
		again, err := NormalizePath(out, opts)
		if err != nil || again != out {
			t.Fatalf("NormalizePath(%q) = %q, then %q, %v: want a fixed point", in, out, again, err)
		}
		for seg := range strings.SplitSeq(out, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("NormalizePath(%q) = %q: got a dot segment, want none", in, out)
			}
		}
		for i := 0; i < len(out); i++ {
			if out[i] != '%' {
				continue
			}
			if i+2 >= len(out) || !isHex(out[i+1]) || !isHex(out[i+2]) {
				t.Fatalf("NormalizePath(%q) = %q: got a malformed escape at %d", in, out, i)
			}
			if v := unhex(out[i+1])<<4 | unhex(out[i+2]); isUnreserved(v) || isLowerHex(out[i+1]) || isLowerHex(out[i+2]) {
				t.Fatalf("NormalizePath(%q) = %q: got escape %s, want it decoded or upper-case", in, out, out[i:i+3])
			}
			if opts.EscapedSlashes != "keep" && (out[i+1:i+3] == "2F" || out[i+1:i+3] == "5C") {
				t.Fatalf("NormalizePath(%q) = %q: got an escaped slash with %s", in, out, opts.EscapedSlashes)
			}
		}
		// The gateway writes the result as the request target: it must
		// be a valid encoding, which net/url also writes unchanged.
		for i := 0; i < len(out); i++ {
			if mustEscape(out[i]) {
				t.Fatalf("NormalizePath(%q) = %q: got raw byte %#x, want it escaped", in, out, out[i])
			}
		}
		if dec, err := url.PathUnescape(out); err != nil {
			t.Fatalf("NormalizePath(%q) = %q: got %v unescaping it", in, out, err)
		} else if u := (url.URL{Path: dec, RawPath: out}); u.EscapedPath() != out {
			t.Fatalf("NormalizePath(%q) = %q: net/url writes it as %q", in, out, u.EscapedPath())
		}
		if strings.ContainsAny(out, "\\#?") {
			t.Fatalf("NormalizePath(%q) = %q: got a backslash, # or ?", in, out)
		}
		if opts.MergeSlashes && strings.Contains(out, "//") {
			t.Fatalf("NormalizePath(%q) = %q: got //, want slashes merged", in, out)
		}
	})
}
