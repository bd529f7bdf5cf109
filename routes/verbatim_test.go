package routes

import (
	"errors"
	"testing"
)

// TestNormalizePathVerbatim: mesh.path_normalization none (Istio's NONE)
// keeps the path as received, yet still refuses what every mode refuses.
func TestNormalizePathVerbatim(t *testing.T) {
	opts := PathOptions{Verbatim: true}
	for _, p := range []string{"/a//b", "/a/../b", "/a%2F..", `/a\b`, "/A%2e%2E"} {
		if got, err := NormalizePath(p, opts); err != nil || got != p {
			t.Errorf("%q: got %q, %v, want it as it came", p, got, err)
		}
	}
	for p, want := range map[string]error{
		"/a%00": ErrPathNUL, "/a%zz": ErrPathEscape, "/a%2": ErrPathEscape, "/a\x01": ErrPathControl,
		"/a#b": ErrPathDelimiter, "a": ErrPathRelative,
	} {
		if _, err := NormalizePath(p, opts); !errors.Is(err, want) {
			t.Errorf("%q: got %v, want %v", p, err, want)
		}
	}
}
