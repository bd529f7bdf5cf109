package plugins_test

import (
	"context"
	"errors"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// TestSetQuery takes a query in the form forwarded and refuses, keeping the
// query as it was, one with a byte that could split an upstream's request
// line or that a URL carries only escaped.
func TestSetQuery(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		ok        bool
	}{
		{"empty", "", true},
		{"pairs", "a=1&b=2", true},
		{"escapes kept", "q=%E2%82%AC&s=%20%23%0D%0A", true},
		{"malformed escape kept as a client sent it", "q=%zz", true},
		{"reserved", "a=/?:@!$'()*+,;=~-._", true},
		{"space", "a=1 HTTP/1.1", false},
		{"CR LF", "a=1\r\nX-Injected: 1", false},
		{"LF", "a=1\nb", false},
		{"NUL", "a=\x00", false},
		{"tab", "a=\t", false},
		{"DEL", "a=\x7f", false},
		{"fragment", "a=1#frag", false},
		{"raw non-ASCII", "q=€", false},
		{"raw high byte", "q=\xff", false},
		{"backslash", `a=\`, false},
		{"quote", `a="`, false},
		{"angle brackets", "a=<x>", false},
		{"braces", "a={}", false},
		{"pipe", "a=|", false},
		{"backquote", "a=`", false},
		{"caret", "a=^", false},
		{"square brackets", "a[]=1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := plugintest.Parse(t, "GET /p?keep=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
			hatch := req.HTTPRequest()
			err := req.SetQuery(tc.raw)
			want := tc.raw
			if !tc.ok {
				want = "keep=1"
				if !errors.Is(err, plugins.ErrQuery) {
					t.Errorf("got error %v, want ErrQuery", err)
				}
			} else if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got := req.Query(); got != want {
				t.Errorf("got query %q, want %q", got, want)
			}
			if got := hatch.URL.RawQuery; got != want {
				t.Errorf("got HTTPRequest's query %q, want %q", got, want)
			}
		})
	}
}

// TestSetQueryForwarded changes the query over each protocol and reads it
// back as the gateway would forward it.
func TestSetQueryForwarded(t *testing.T) {
	h := handlerFunc(func(_ context.Context, req *plugins.Request) error {
		return req.SetQuery(req.Query() + "&added=1")
	})
	for _, proto := range plugintest.Protocols {
		t.Run(proto, func(t *testing.T) {
			o := plugintest.Run(t, proto, h, plugintest.Exchange{Target: "/a?x=%41"})
			if o.Err != nil || o.Query != "x=%41&added=1" {
				t.Errorf("got query %q and error %v, want x=%%41&added=1", o.Query, o.Err)
			}
		})
	}
}
