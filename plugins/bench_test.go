package plugins_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// browserHeader is the header of a usual browser request.
func browserHeader() http.Header {
	return http.Header{
		"Accept":          {"text/html,application/xhtml+xml"},
		"Accept-Encoding": {"gzip, deflate, br"},
		"Accept-Language": {"en-GB,en;q=0.9"},
		"Authorization":   {"Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"},
		"Cookie":          {"session=abc"},
		"User-Agent":      {"Mozilla/5.0"},
		"X-Api-Key":       {"key-1"},
		"X-Debug":         {"1"},
	}
}

// threePlugins read a header and set one each, as an authentication, a
// tenancy and a header-editing plugin would.
func threePlugins() *plugins.Chain {
	env := []string{"prod"}
	return plugins.NewChain([]string{"auth", "tenant", "edit"}, []plugins.Handler{
		handlerFunc(func(_ context.Context, req *plugins.Request) error {
			if req.Header().Get("authorization") == "" {
				return &plugins.Reject{Status: http.StatusUnauthorized}
			}
			req.Header().Set("X-User", "alice")
			return nil
		}),
		handlerFunc(func(_ context.Context, req *plugins.Request) error {
			req.Header().Set("X-Tenant", req.Header().Get("X-Api-Key"))
			return nil
		}),
		handlerFunc(func(_ context.Context, req *plugins.Request) error {
			req.Header().Del("X-Debug")
			req.Header().SetValues("X-Env", env)
			return nil
		}),
	})
}

// TestChainOfThreeAllocs counts what three plugins that read and set
// headers add to a request: one allocation for each value a plugin builds
// per request (Set), none for values built once (SetValues).
func TestChainOfThreeAllocs(t *testing.T) {
	c := threePlugins()
	hdr := browserHeader()
	req := plugintest.Get(hdr)
	ctx := context.Background()
	debug := hdr["X-Debug"]
	allocs := testing.AllocsPerRun(1000, func() {
		hdr["X-Debug"] = debug
		if err := c.HandleRequest(ctx, req); err != nil {
			t.Fatal(err)
		}
	})
	if allocs >= 5 {
		t.Errorf("got %v allocations per request, want fewer than 5", allocs)
	}
	if got := hdr.Get("X-Tenant") + hdr.Get("X-User") + hdr.Get("X-Env") + hdr.Get("X-Debug"); got != "key-1aliceprod" {
		t.Errorf("got %q, want the three plugins' edits", got)
	}
}

func BenchmarkChainOfThree(b *testing.B) {
	c := threePlugins()
	hdr := browserHeader()
	req := plugintest.Get(hdr)
	ctx := context.Background()
	debug := hdr["X-Debug"]
	b.ReportAllocs()
	for b.Loop() {
		hdr["X-Debug"] = debug
		if err := c.HandleRequest(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHeaderGet(b *testing.B) {
	h := plugintest.Get(browserHeader()).Header()
	for _, name := range []string{"Authorization", "authorization", "X-Absent"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n += len(h.Get(name))
			}
		})
	}
}

// BenchmarkViewReset is the cost of making a request's view, the baseline
// of BenchmarkHTTPRequest.
func BenchmarkViewReset(b *testing.B) {
	r := plugintest.Get(browserHeader()).HTTPRequest()
	var v plugins.StdRequest
	b.ReportAllocs()
	for b.Loop() {
		v.Reset(r)
	}
}

// BenchmarkHTTPRequest is the cost of the escape hatch: making the view
// and asking it for an *http.Request once.
func BenchmarkHTTPRequest(b *testing.B) {
	r := plugintest.Get(browserHeader()).HTTPRequest()
	var v plugins.StdRequest
	b.ReportAllocs()
	for b.Loop() {
		v.Reset(r)
		_ = v.HTTPRequest()
	}
}

// TestHTTPRequestAllocs holds the escape hatch to what the contract says it
// costs: nothing for a view, two allocations for a request that asks.
func TestHTTPRequestAllocs(t *testing.T) {
	r := plugintest.Get(browserHeader()).HTTPRequest()
	var v plugins.StdRequest
	if got := testing.AllocsPerRun(100, func() { v.Reset(r) }); got != 0 {
		t.Errorf("got %v allocations to make a view, want 0", got)
	}
	if got := testing.AllocsPerRun(100, func() {
		v.Reset(r)
		_ = v.HTTPRequest()
	}); got != 2 {
		t.Errorf("got %v allocations for the escape hatch, want 2", got)
	}
}
