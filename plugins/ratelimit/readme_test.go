package ratelimit_test

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
	"github.com/portcullis-gw/portcullis/plugins/ratelimit"
	"github.com/portcullis-gw/portcullis/routes/routestest"
)

// TestREADME loads every yaml example of README.md as a whole routes file,
// checks that its route runs the limit, and sends requests from one client
// until the limit refuses one.
func TestREADME(t *testing.T) {
	for i, rule := range routestest.ReadmeRules(t, "README.md", ratelimit.Factory(), 3) {
		t.Run(plugintest.Name(i), func(t *testing.T) {
			req := plugintest.Get(http.Header{"X-Api-Key": {"k1"}})
			req.Client = netip.MustParseAddr("192.0.2.1")
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
