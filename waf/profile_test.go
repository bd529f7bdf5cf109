package waf_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// profiles is a routes file with one route per profile of its waf
// section, each under /<profile>/, and the default profile elsewhere.
const profiles = `listeners: [{ name: public, address: "127.0.0.1:0" }]
upstreams: [{ name: echo, builtin: echo }]
waf:
  profiles:
    api:
      crs:
        allowed_methods: [GET, POST, PUT, PATCH, DELETE]
        allowed_content_types: [application/json, application/x-www-form-urlencoded]
      request_body_limit: 16KiB
      request_body_limit_action: inspect_partial
    excl:
      exclusions:
        - { ids: [911100] }
        - { tags: [attack-xss], target: "ARGS:comment" }
        - { ids: ["941000-941999"], path_prefix: /excl/cms/ }
        - { tags: [attack-sqli], target: "ARGS:filter", path: /excl/search }
    pl2: { crs: { paranoia: 2 } }
    try2: { crs: { paranoia: 1, executing_paranoia: 2 } }
virtual_hosts:
  - name: site
    hosts: ["*"]
    routes:
      - { name: api, match: { path_prefix: /api/ }, upstream: echo, plugins: [{ waf: api }] }
      - { name: excl, match: { path_prefix: /excl/ }, upstream: echo, plugins: [{ waf: excl }] }
      - { name: pl2, match: { path_prefix: /pl2/ }, upstream: echo, plugins: [{ waf: pl2 }] }
      - { name: try2, match: { path_prefix: /try2/ }, upstream: echo, plugins: [{ waf: try2 }] }
      - { name: default, upstream: echo, plugins: [{ waf: }] }
`

// TestProfiles checks each profile setting by a request that it decides
// differently from the default profile.
func TestProfiles(t *testing.T) {
	xss := url.QueryEscape("<script>alert(1)</script>")
	sqli := url.QueryEscape("1' UNION SELECT password FROM users--")
	anchor := url.QueryEscape(`<a href="x">hi</a>`)
	put := func(target, ctype, body string) plugintest.Exchange {
		return plugintest.Exchange{Method: "PUT", Target: target, Body: body, Header: browser("Content-Type", ctype)}
	}
	filler := "f=" + strings.Repeat("a", 16<<10)
	tests := []struct {
		name string
		ex   plugintest.Exchange
		want int // 0: passed
	}{
		{"default refuses PUT", put("/x", "application/json", `{"a":1}`), 403},
		{"api allows PUT of JSON", put("/api/items/7", "application/json", `{"name":"chair"}`), 0},
		{"api refuses XML", put("/api/items/7", "application/xml", `<a>1</a>`), 403},
		{"api inspects a body's start past its limit", form("/api/form", "q="+sqli+"&"+filler), 403},
		{"api passes what lies past its limit", form("/api/form", filler+"&q="+sqli), 0},
		{"excl: an id removed everywhere", put("/excl/x", "application/json", `{"a":1}`), 0},
		{"excl: a tag removed for one argument", get("/excl/?comment=" + xss), 0},
		{"excl: the tag kept for others", get("/excl/?q=" + xss), 403},
		{"excl: a range removed on a path", get("/excl/cms/edit?q=" + xss), 0},
		{"excl: a tag removed for one argument on a path", get("/excl/search?filter=" + sqli), 0},
		{"excl: the tag kept for others on the path", get("/excl/search?q=" + sqli), 403},
		{"excl: the tag kept for the argument elsewhere", get("/excl/other?filter=" + sqli), 403},
		{"paranoia 1 passes an anchor tag", get("/?q=" + anchor), 0},
		{"paranoia 2 blocks it", get("/pl2/?q=" + anchor), 403},
		{"executing paranoia 2 only logs it", get("/try2/?q=" + anchor), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, _, _ := strings.Cut(tt.ex.Target, "?")
			h := sharedRoute(t, profiles, path).Handlers[0]
			o := plugintest.Run(t, "HTTP/1.1", h, tt.ex)
			var rej *plugins.Reject
			switch {
			case tt.want == 0 && o.Err != nil:
				t.Fatalf("got %v, want the request passed", o.Err)
			case tt.want == 0 && o.Body != tt.ex.Body:
				t.Errorf("got %d bytes forwarded, want the %d sent", len(o.Body), len(tt.ex.Body))
			case tt.want != 0 && (!errors.As(o.Err, &rej) || rej.Status != tt.want):
				t.Fatalf("got %v, want %d", o.Err, tt.want)
			}
		})
	}
}

// TestAnswer renders a block in JSON by default and in HTML for a client
// that asks for it first, with a hostile request id escaped in each, and
// neither naming a rule.
func TestAnswer(t *testing.T) {
	h := shared(t, routesFile("", "default")).Handlers[0]
	id := `"><script>alert(1)</script>`
	for _, tt := range []struct{ accept, ctype, want string }{
		{"*/*", "application/json", `"request_id":"\"\u003e\u003cscript\u003ealert(1)\u003c/script\u003e"`},
		{"application/json, text/html", "application/json", `"status":403`},
		{"text/html,application/xhtml+xml,*/*;q=0.8", "text/html; charset=utf-8", `Request id: <code>&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</code>`},
	} {
		req := plugintest.Parse(t, "GET /?q=%3Cscript%3Ealert(1)%3C/script%3E HTTP/1.1\r\nHost: example.com\r\nAccept: "+tt.accept+"\r\n\r\n")
		req.ID = id
		var rej *plugins.Reject
		if err := h.HandleRequest(t.Context(), req); !errors.As(err, &rej) {
			t.Fatalf("got %v, want a block", err)
		}
		if got := rej.Header.Get("Content-Type"); got != tt.ctype || !strings.Contains(rej.Body, tt.want) {
			t.Errorf("Accept %q: got %s %q, want %s with %q", tt.accept, got, rej.Body, tt.ctype, tt.want)
		}
		if strings.Contains(rej.Body, "941") || strings.Contains(rej.Body, "<script>") || rej.Status != http.StatusForbidden {
			t.Errorf("Accept %q: got %d %q, want 403 without rule ids or the id unescaped", tt.accept, rej.Status, rej.Body)
		}
	}
}
