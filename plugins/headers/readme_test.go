package headers_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
	"github.com/portcullis-gw/portcullis/routes/routestest"
)

// TestREADME loads every yaml example of README.md as a whole routes file and
// checks that its route runs the headers plugin.
func TestREADME(t *testing.T) {
	for i, rule := range routestest.ReadmeRules(t, "README.md", headers.Factory(), 2) {
		t.Run(plugintest.Name(i), func(t *testing.T) {
			// Every example sets a header on one side or the other, so
			// running the chain on empty headers shows the plugin at work.
			ctx := context.Background()
			req := plugintest.Get(nil)
			resp := plugintest.Response(&http.Response{Header: http.Header{}})
			if err := rule.Chain.HandleRequest(ctx, req); err != nil {
				t.Fatalf("got request error %v, want nil", err)
			}
			if err := rule.Chain.HandleResponse(ctx, req, resp); err != nil {
				t.Fatalf("got response error %v, want nil", err)
			}
			if req.Header().Len()+resp.Header().Len() == 0 {
				t.Error("got no header set on the request or the response, want the example's edits")
			}
		})
	}
}
