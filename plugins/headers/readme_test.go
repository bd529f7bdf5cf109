package headers_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/routes"
)

// yamlBlock matches a fenced yaml block of the README, capturing its body.
var yamlBlock = regexp.MustCompile("(?ms)^```yaml\n(.*?)^```")

// TestREADME loads every yaml example of README.md as a whole routes file and
// checks that its route runs the headers plugin.
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := yamlBlock.FindAllSubmatch(readme, -1)
	if len(blocks) < 2 {
		t.Fatalf("got %d yaml examples in README.md, want at least 2", len(blocks))
	}
	reg, err := plugins.NewRegistry(headers.Factory())
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range blocks {
		t.Run(fmt.Sprint("example ", i+1), func(t *testing.T) {
			cfg, err := routes.Parse("README.md", b[1], reg)
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			rule, _ := cfg.Table.Match("example.com", "/", http.MethodGet, http.Header{})
			if rule == nil {
				t.Fatal("got no rule for GET example.com/, want one")
			}
			if !slices.Contains(rule.Chain.Names, headers.Name) {
				t.Fatalf("got chain %q, want it to hold %q", rule.Chain.Names, headers.Name)
			}
			// Every example sets a header on one side or the other, so
			// running the chain on empty headers shows the plugin at work.
			ctx := context.Background()
			req := &plugins.Request{HTTP: &http.Request{Header: http.Header{}}}
			resp := &http.Response{Header: http.Header{}}
			if err := rule.Chain.HandleRequest(ctx, req); err != nil {
				t.Fatalf("got request error %v, want nil", err)
			}
			if err := rule.Chain.HandleResponse(ctx, req, resp); err != nil {
				t.Fatalf("got response error %v, want nil", err)
			}
			if len(req.HTTP.Header)+len(resp.Header) == 0 {
				t.Error("got no header set on the request or the response, want the example's edits")
			}
		})
	}
}
