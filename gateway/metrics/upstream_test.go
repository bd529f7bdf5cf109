package metrics

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/portcullis-gw/portcullis/gateway/upstream"
	"github.com/portcullis-gw/portcullis/routes"
)

// upstreamSpec loads one upstream definition through the routes loader.
func upstreamSpec(t *testing.T, def string) *routes.UpstreamSpec {
	t.Helper()
	data := "listeners: [{ name: l, address: \"127.0.0.1:0\" }]\n" +
		"virtual_hosts: [{ name: v, hosts: [\"*\"], routes: [{ name: r, upstream: shop }] }]\n" +
		"upstreams: [" + def + "]\n"
	cfg, err := routes.Parse("test.yaml", []byte(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Upstreams["shop"]
}

// TestUpstreamMetrics runs a real pool against a real backend with the
// metrics as its observer and scrapes what it reported.
func TestUpstreamMetrics(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer backend.Close()
	m := New()
	u := NewUpstreams(m.Registry())
	p, err := upstream.New(upstreamSpec(t, fmt.Sprintf(`{ name: shop, endpoints: ["127.0.0.1:1", %q],
		outlier: { consecutive_5xx: 1, consecutive_connect_failures: 1, max_ejection_percent: 50 }, limits: { max_requests: 1 } }`,
		backend.Listener.Addr())), upstream.Options{Observer: u.Observer("shop")})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Start()
	pol := &routes.RetryPolicy{Attempts: 1, On: []string{"5xx"}}
	// One request: refused by the dead endpoint, which is ejected, then
	// retried on the backend, whose 503 ejects nothing (a second
	// ejection would pass 50%) and ends the retries.
	resp, err := p.RoundTrip(newRequest(t), &upstream.Attempt{Retry: pol})
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// A request held open (its body not read), and one refused by
	// max_requests: 1.
	held, err := p.RoundTrip(newRequest(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.RoundTrip(newRequest(t), nil); err == nil {
		t.Fatal("got no error over max_requests, want UO")
	}
	fams := scrape(t, m)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"portcullis_upstream_endpoint_healthy", map[string]string{"upstream": "shop", "endpoint": backend.Listener.Addr().String()}, 1},
		{"portcullis_upstream_endpoint_healthy", map[string]string{"upstream": "shop", "endpoint": "127.0.0.1:1"}, 0},
		{"portcullis_upstream_ejections_total", map[string]string{"upstream": "shop"}, 1},
		{"portcullis_upstream_retries_total", map[string]string{"upstream": "shop", "result": "retried"}, 1},
		{"portcullis_upstream_retries_total", map[string]string{"upstream": "shop", "result": "exhausted"}, 1},
		{"portcullis_upstream_retries_total", map[string]string{"upstream": "shop", "result": "overflow"}, 0},
		{"portcullis_upstream_overflow_total", map[string]string{"upstream": "shop"}, 1},
		{"portcullis_upstream_requests_active", map[string]string{"upstream": "shop"}, 1},
	}
	for _, c := range checks {
		t.Run(fmt.Sprint(c.name, c.labels), func(t *testing.T) {
			m := one(t, fams, c.name, c.labels)
			got := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			if got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	held.Body.Close()
	if got := one(t, scrape(t, m), "portcullis_upstream_requests_active", map[string]string{"upstream": "shop"}).GetGauge().GetValue(); got != 0 {
		t.Errorf("got %v requests active after the body closed, want 0", got)
	}
	p.Close()
	if n := len(scrape(t, m)["portcullis_upstream_endpoint_healthy"].GetMetric()); n != 0 {
		t.Errorf("got %d endpoint series after Close, want 0", n)
	}
}

func newRequest(t *testing.T) *http.Request {
	req, err := http.NewRequest(http.MethodGet, "http://shop.test/", nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestEndpointSeriesShared checks that an endpoint series held by two
// pools of one upstream (the old and new pool during a reload) stays until
// both dropped it, and that a pool cannot drop what it never held.
func TestEndpointSeriesShared(t *testing.T) {
	m := New()
	u := NewUpstreams(m.Registry())
	old, next := u.Observer("shop"), u.Observer("shop")
	count := func() int { return len(scrape(t, m)["portcullis_upstream_endpoint_healthy"].GetMetric()) }
	steps := []struct {
		name string
		do   func()
		want int
	}{
		{"old reports", func() { old.EndpointHealth("10.0.0.1:80", true) }, 1},
		{"new reports the same", func() { next.EndpointHealth("10.0.0.1:80", true) }, 1},
		{"new reports another", func() { next.EndpointHealth("10.0.0.2:80", false) }, 2},
		{"old drops one it never held", func() { old.EndpointRemoved("10.0.0.2:80") }, 2},
		{"old closes", func() { old.EndpointRemoved("10.0.0.1:80") }, 2},
		{"new drops it too", func() { next.EndpointRemoved("10.0.0.1:80") }, 1},
		{"new drops the other", func() { next.EndpointRemoved("10.0.0.2:80") }, 0},
	}
	for _, st := range steps {
		st.do()
		if got := count(); got != st.want {
			t.Errorf("%s: got %d series, want %d", st.name, got, st.want)
		}
	}
}

// TestResolveErrorSeries has each upstream's resolve error series from the
// start, at zero, so that increase() sees the first failure, and counts an
// unknown reason as "error" rather than making a series of it.
func TestResolveErrorSeries(t *testing.T) {
	m := New()
	o := NewUpstreams(m.Registry()).Observer("shop")
	const name = "portcullis_upstream_resolve_errors_total"
	count := func(reason string) float64 {
		return one(t, scrape(t, m), name, map[string]string{"upstream": "shop", "reason": reason}).GetCounter().GetValue()
	}
	for _, r := range []string{"not_found", "timeout", "error"} {
		if got := count(r); got != 0 {
			t.Errorf("%s before any failure: got %v, want 0", r, got)
		}
	}
	o.ResolveError(upstream.ResolveNotFound)
	o.ResolveError(upstream.ResolveNotFound)
	o.ResolveError(upstream.ResolveTimeout)
	o.ResolveError("made-up")
	for r, want := range map[string]float64{"not_found": 2, "timeout": 1, "error": 1} {
		if got := count(r); got != want {
			t.Errorf("%s: got %v, want %v", r, got, want)
		}
	}
	if n := len(scrape(t, m)[name].GetMetric()); n != 3 {
		t.Errorf("got %d series, want 3", n)
	}
}
