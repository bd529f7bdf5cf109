package upstream

import (
	"fmt"
	"io"
	"net/http"
	"testing"
)

// TestPickAllocs checks that picking allocates nothing, for every
// balancer.
func TestPickAllocs(t *testing.T) {
	for _, b := range []string{"round_robin", "least_request", "ring_hash"} {
		t.Run(b, func(t *testing.T) {
			p := benchPool(t, b)
			req, _ := http.NewRequest(http.MethodGet, "http://up.test/", nil)
			req.Header.Set("X-User", "alice")
			a := &Attempt{}
			if n := testing.AllocsPerRun(1000, func() { p.pick(req, a, nil) }); n != 0 {
				t.Errorf("got %.1f allocs per pick, want 0", n)
			}
		})
	}
}

func benchPool(t testing.TB, balancer string) *Pool {
	hash := ""
	if balancer == "ring_hash" {
		hash = "\nhash: { header: x-user }"
	}
	s := spec(t, `endpoints: ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", {address: "10.0.0.4:80", weight: 2}]`+"\nbalancer: "+balancer+hash)
	p, err := New(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// BenchmarkPick measures one pick per balancer, in parallel as requests
// pick: go test ./gateway/upstream -run '^$' -bench Pick -benchmem
func BenchmarkPick(b *testing.B) {
	for _, name := range []string{"round_robin", "least_request", "ring_hash"} {
		b.Run(name, func(b *testing.B) {
			p := benchPool(b, name)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req, _ := http.NewRequest(http.MethodGet, "http://up.test/", nil)
				req.Header.Set("X-User", "alice")
				a := &Attempt{}
				for pb.Next() {
					if p.pick(req, a, nil) == nil {
						b.Fatal("no endpoint")
					}
				}
			})
		})
	}
}

// BenchmarkRoundTrip compares a request through a pool with the same
// request through a bare http.Transport, against one loopback backend:
// go test ./gateway/upstream -run '^$' -bench RoundTrip -benchmem
func BenchmarkRoundTrip(b *testing.B) {
	be := newBackend(b, "b", nil)
	p := newPool(b, spec(b, fmt.Sprintf("endpoints: [%q]", be.addr)), Options{})
	bare := &http.Transport{MaxIdleConnsPerHost: 256}
	defer bare.CloseIdleConnections()
	for _, c := range []struct {
		name string
		rt   func(*http.Request) (*http.Response, error)
	}{
		{"transport", bare.RoundTrip},
		{"pool", func(r *http.Request) (*http.Response, error) { return p.RoundTrip(r, &Attempt{}) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, "http://"+be.addr+"/", nil)
					resp, err := c.rt(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}
