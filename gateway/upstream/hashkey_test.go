package upstream

import (
	"net/http"
	"strings"
	"testing"
)

func TestCookieValue(t *testing.T) {
	tests := []struct {
		name   string
		lines  []string
		want   string
		wantOK bool
	}{
		{"only", []string{"session=abc"}, "abc", true},
		{"among others", []string{"a=1; session=abc; b=2"}, "abc", true},
		{"second line", []string{"a=1", "session=abc"}, "abc", true},
		{"quoted", []string{`session="abc"`}, "abc", true},
		{"spaces", []string{"  session=abc  ;x=1"}, "abc", true},
		{"first of two", []string{"session=one; session=two"}, "one", true},
		{"prefix of another name", []string{"session_id=abc"}, "", false},
		{"suffix of another name", []string{"my_session=abc"}, "", false},
		{"empty value", []string{"session="}, "", false},
		{"no value", []string{"session"}, "", false},
		{"absent", []string{"a=1; b=2"}, "", false},
		{"no header", nil, "", false},
		{"only separators", []string{";;;; ;"}, "", false},
		{"value with equals", []string{"session=a=b"}, "a=b", true},
		{"lone quote", []string{`session="`}, "", false},
		{"empty quotes", []string{`session=""; session=x`}, "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cookieValue(tt.lines, "session")
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %q %v, want %q %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestHashKey(t *testing.T) {
	tests := []struct {
		name   string
		policy hashPolicy
		setup  func(*http.Request, *Attempt)
		want   string
		wantOK bool
	}{
		{"header", hashPolicy{header: "X-User"}, func(r *http.Request, _ *Attempt) { r.Header.Set("x-user", "bob") }, "bob", true},
		{"header first value", hashPolicy{header: "X-User"}, func(r *http.Request, _ *Attempt) {
			r.Header.Add("X-User", "a")
			r.Header.Add("X-User", "b")
		}, "a", true},
		{"header missing", hashPolicy{header: "X-User"}, func(*http.Request, *Attempt) {}, "", false},
		{"header empty", hashPolicy{header: "X-User"}, func(r *http.Request, _ *Attempt) { r.Header.Set("X-User", "") }, "", false},
		{"cookie", hashPolicy{cookie: "s"}, func(r *http.Request, _ *Attempt) { r.Header.Set("Cookie", "s=1") }, "1", true},
		{"client from the gateway", hashPolicy{}, func(r *http.Request, a *Attempt) { a.HashKey = func() string { return "10.0.0.1" } }, "10.0.0.1", true},
		{"client from the gateway, empty", hashPolicy{}, func(r *http.Request, a *Attempt) { a.HashKey = func() string { return "" } }, "", false},
		{"remote addr", hashPolicy{}, func(r *http.Request, _ *Attempt) { r.RemoteAddr = "[::1]:4000" }, "::1", true},
		{"remote addr garbage", hashPolicy{}, func(r *http.Request, _ *Attempt) { r.RemoteAddr = "garbage" }, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, "http://up.test/", nil)
			a := &Attempt{}
			tt.setup(req, a)
			got, ok := tt.policy.key(req, a)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %q %v, want %q %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// FuzzCookieValue feeds hostile Cookie headers to the hash key's parser: it
// must not panic, and what it finds must be in the header, after the
// name and an equals sign.
func FuzzCookieValue(f *testing.F) {
	for _, s := range []string{"session=abc", "a=1; session=\"x\"", ";;=;session", "session=a=b; session=c", "\x00session=\xff"} {
		f.Add(s, "session")
	}
	f.Fuzz(func(t *testing.T, header, name string) {
		v, ok := cookieValue([]string{header}, name)
		if !ok {
			if v != "" {
				t.Fatalf("got %q with false, want empty", v)
			}
			return
		}
		if v == "" {
			t.Fatalf("got an empty value found in %q", header)
		}
		if !strings.Contains(header, name+"=") || !strings.Contains(header, v) {
			t.Fatalf("got %q for %q in %q, want a value from the header", v, name, header)
		}
	})
}
