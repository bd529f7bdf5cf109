package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/ratelimit"
	"github.com/portcullis-gw/portcullis/routes"
)

// yamlBlock matches a fenced yaml block of the README, capturing its body.
var yamlBlock = regexp.MustCompile("(?ms)^```yaml\n(.*?)^```")

// TestREADME loads every yaml example of README.md as a whole routes file,
// checks that its route runs the limit, and sends requests from one client
// until the limit refuses one.
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := yamlBlock.FindAllSubmatch(readme, -1)
	if len(blocks) < 3 {
		t.Fatalf("got %d yaml examples in README.md, want at least 3", len(blocks))
	}
	reg, err := plugins.NewRegistry(ratelimit.Factory())
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
			if !slices.Contains(rule.Chain.Names, ratelimit.Name) {
				t.Fatalf("got chain %q, want it to hold %q", rule.Chain.Names, ratelimit.Name)
			}
			req := &plugins.Request{
				HTTP:   &http.Request{Header: http.Header{"X-Api-Key": {"k1"}}},
				Client: netip.MustParseAddr("192.0.2.1"),
			}
			// Every example's burst is at most a few hundred, and the
			// loop outruns any of their refills.
			for n := 1; n <= 10000; n++ {
				err := rule.Chain.HandleRequest(context.Background(), req)
				if err == nil {
					continue
				}
				var rej *plugins.Reject
				if !errors.As(err, &rej) || rej.Status != http.StatusTooManyRequests || rej.Flag != "RL" {
					t.Fatalf("request %d: got %v, want 429 with flag RL", n, err)
				}
				if n == 1 {
					t.Fatal("got the first request refused, want it admitted")
				}
				return
			}
			t.Error("got 10000 requests admitted, want one refused")
		})
	}
}
