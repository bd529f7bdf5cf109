package waf_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// many returns n copies of format, each given its index, joined by sep.
func many(n int, format, sep string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(format, i)
	}
	return strings.Join(parts, sep)
}

// manyFields is a browser's header with n more fields.
func manyFields(n int) http.Header {
	h := browser()
	for i := range n {
		h.Set(fmt.Sprintf("X-Field-%d", i), "1")
	}
	return h
}

// hostile are requests built to cost a WAF dearly or to break its parsers,
// each with the answer it gets from the default profile: a limit's 413, or
// the 400 that Coraza's rules give a body that does not parse.
var hostile = []struct {
	name    string
	ex      plugintest.Exchange
	status  int
	details string
}{
	{"128 KB form field", form("/post", "f="+strings.Repeat("hello world ", 128<<10/12)), 413, "waf_limit{inspected_bytes}"},
	{"64 KB cookie", plugintest.Exchange{Target: "/", Header: browser("Cookie", "s="+strings.Repeat("a", 64<<10))}, 413, "waf_limit{inspected_bytes}"},
	{"body over the limit", form("/post", "f="+strings.Repeat("a", 1<<20)), 413, "waf_limit{request_body}"},
	{"600 query arguments", get("/?" + many(600, "a%d=1", "&")), 413, "waf_limit{args}"},
	{"300 cookies", plugintest.Exchange{Target: "/", Header: browser("Cookie", many(300, "c%d=1", "; "))}, 413, "waf_limit{args}"},
	{"300 header fields", plugintest.Exchange{Target: "/", Header: manyFields(300)}, 413, "waf_limit{args}"},
	{"600 form arguments", form("/post", many(600, "a%d=1", "&")), 413, "waf_limit{args}"},
	{"600 JSON values", jsonPost("/api", "["+many(600, "%d", ",")+"]"), 413, "waf_limit{args}"},
	{"600 XML values", plugintest.Exchange{Method: "POST", Target: "/api", Body: "<a>" + many(600, "<b>%d</b>", "") + "</a>",
		Header: browser("Content-Type", "application/xml")}, 413, "waf_limit{args}"},
	{"JSON nested 40 deep", jsonPost("/api", strings.Repeat(`{"a":`, 40)+"1"+strings.Repeat("}", 40)), 413, "waf_limit{depth}"},
	{"JSON arrays nested 10000 deep", jsonPost("/api", strings.Repeat("[", 10000)+strings.Repeat("]", 10000)), 413, "waf_limit{depth}"},
	{"XML nested 40 deep", plugintest.Exchange{Method: "POST", Target: "/api", Body: strings.Repeat("<a>", 40) + "x" + strings.Repeat("</a>", 40),
		Header: browser("Content-Type", "text/xml")}, 413, "waf_limit{depth}"},
	{"invalid JSON", jsonPost("/api", `{"a": [1, 2}`), 400, "waf_blocked{200002"},
	{"invalid XML", plugintest.Exchange{Method: "POST", Target: "/api", Body: "<order><>1</order>",
		Header: browser("Content-Type", "application/xml")}, 400, "waf_blocked{200002"},
	{"malformed multipart", plugintest.Exchange{Method: "POST", Target: "/upload", Body: "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--YY--\r\n",
		Header: browser("Content-Type", "multipart/form-data; boundary=XX")}, 400, "waf_blocked{"},
	{"multipart without its boundary", plugintest.Exchange{Method: "POST", Target: "/upload", Body: "a=1",
		Header: browser("Content-Type", "multipart/form-data")}, 400, "waf_blocked{"},
}

// TestHostileRequests checks that each hostile request gets its status at
// once, over HTTP/2: no crash, no hang, no silent pass.
func TestHostileRequests(t *testing.T) {
	h := shared(t, routesFile("", "default")).Handlers[0]
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			o := plugintest.Run(t, "HTTP/2", h, tt.ex)
			var rej *plugins.Reject
			if !errors.As(o.Err, &rej) || rej.Status != tt.status || !strings.HasPrefix(rej.Details, tt.details) {
				t.Fatalf("got %v, want %d %s…", o.Err, tt.status, tt.details)
			}
		})
	}
}

// TestWithinLimits passes requests just inside each limit.
func TestWithinLimits(t *testing.T) {
	h := shared(t, routesFile("", "default")).Handlers[0]
	for _, tt := range []struct {
		name string
		ex   plugintest.Exchange
	}{
		{"240 query arguments", get("/?" + many(240, "a%d=1", "&"))},
		{"JSON nested 30 deep", jsonPost("/api", strings.Repeat(`{"a":`, 30)+"1"+strings.Repeat("}", 30))},
		{"60 KB form field", form("/post", "f="+url.QueryEscape(strings.Repeat("hello world ", 60<<10/12)))},
		{"900 KB upload", upload("/upload", nil, "big.bin", strings.Repeat("\x00\x01binary", 900<<10/8))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := plugintest.Run(t, "HTTP/1.1", h, tt.ex)
			if o.Err != nil {
				t.Fatalf("got %v, want the request passed", o.Err)
			}
			if len(o.Body) != len(tt.ex.Body) {
				t.Errorf("got %d bytes forwarded, want %d", len(o.Body), len(tt.ex.Body))
			}
		})
	}
}
