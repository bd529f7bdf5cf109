package gateway

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
)

// TestPluginSetsQuery forwards, and logs, the query a plugin set in place of
// the client's, on the path the route matched.
func TestPluginSetsQuery(t *testing.T) {
	be := newBackend(t, nil)
	tg := viewGateway(t, be.addr(), "query", pluginFunc(func(_ context.Context, req *plugins.Request) error {
		q, _, _ := strings.Cut(req.Query(), "&secret=")
		return req.SetQuery(q)
	}))
	r, _ := http.NewRequest("GET", tg.url("web")+"/p/q?a=%E2%82%AC&b&secret=s3", nil)
	r.Header.Set("X-Request-Id", "plugin-query")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	if s := seenBy(t, resp); s.Path != "/p/q" || s.Query != "a=%E2%82%AC&b" {
		t.Errorf("got %s?%s upstream, want /p/q?a=%%E2%%82%%AC&b", s.Path, s.Query)
	}
	if got := tg.logFor("plugin-query")["path"]; got != "/p/q?a=%E2%82%AC&b" {
		t.Errorf("got path %v in the access log, want the query forwarded", got)
	}
}

// TestSetQueryAsClientQuery holds the view's check of a plugin's query to
// the gateway's of a client's: a query of any one byte, with or around an
// escape, is taken by SetQuery exactly when NormalizeQuery takes it as it
// is.
func TestSetQueryAsClientQuery(t *testing.T) {
	var v plugins.StdRequest
	r, _ := http.NewRequest("GET", "http://example.com/", nil)
	for c := 0; c < 256; c++ {
		for _, q := range []string{string([]byte{byte(c)}), "a=%41" + string([]byte{byte(c)}) + "&b"} {
			v.Reset(r)
			taken := v.SetQuery(q) == nil
			nq, err := routes.NormalizeQuery(q)
			if asIs := err == nil && nq == q; taken != asIs {
				t.Errorf("query %q: SetQuery takes it %v, NormalizeQuery as it is %v", q, taken, asIs)
			}
		}
	}
}
