package upstream

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestDNSChanges changes a controlled resolver's answers for two names,
// each with its own backend port: the pool's endpoints and its traffic
// follow, a request in flight on a removed endpoint finishes, and a failed
// lookup keeps the last answer.
func TestDNSChanges(t *testing.T) {
	release := make(chan struct{})
	held := make(chan struct{}, 1)
	a := newBackend(t, "a", func(w http.ResponseWriter, r *http.Request, hit int64) {
		if r.URL.Path == "/slow" {
			held <- struct{}{}
			<-release
		}
		w.Write([]byte("a"))
	})
	b := newBackend(t, "b", nil)
	_, portA, _ := net.SplitHostPort(a.addr)
	_, portB, _ := net.SplitHostPort(b.addr)
	res := &resolver{}
	res.set("a.test", "127.0.0.1")
	rec := newRecorder()
	p := newPool(t, spec(t, fmt.Sprintf(`endpoints: ["a.test:%s", "b.test:%s"]
		dns_refresh: 100ms`, portA, portB)), Options{Resolver: res, Observer: rec})

	// The first request waits for the first resolution.
	if _, body, err := get(t, p, nil); err != nil || body != "a" {
		t.Fatalf("first request: got %q, %v, want a", body, err)
	}
	addrA, addrB := "127.0.0.1:"+portA, "127.0.0.1:"+portB
	slowDone := make(chan error, 1)
	steps := []struct {
		name   string
		change func(t *testing.T)
		want   []string
		bodies string // what requests get, in any order
	}{
		{"only a", func(*testing.T) {}, []string{addrA}, "a"},
		{"b appears", func(*testing.T) { res.set("b.test", "127.0.0.1") }, []string{addrA, addrB}, "ab"},
		{"a goes with a request in flight", func(t *testing.T) {
			go func() {
				// b answers at once; a holds the request.
				for {
					req, _ := http.NewRequest(http.MethodGet, "http://up.test/slow", nil)
					_, body, err := finishRequest(p, req, nil)
					if err != nil || body == "a" {
						slowDone <- err
						return
					}
				}
			}()
			recv(t, held)
			res.set("a.test", nil...)
		}, []string{addrB}, "b"},
		{"lookup failure keeps b", func(*testing.T) { res.fail("b.test") }, []string{addrB}, "b"},
		{"ipv4 preferred", func(*testing.T) { res.set("b.test", "::1", "127.0.0.1") }, []string{addrB}, "b"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change(t)
			before := res.lookups.Load()
			err := eventually(func() error {
				// Two lookups of each name after the change: the
				// pool has applied at least one full refresh.
				if res.lookups.Load() < before+4 {
					return fmt.Errorf("waiting for a refresh")
				}
				if got := endpointsOf(p); !slices.Equal(got, st.want) {
					return fmt.Errorf("got endpoints %v, want %v", got, st.want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for range 10 {
				_, body, err := get(t, p, nil)
				if err != nil || !strings.Contains(st.bodies, body) {
					t.Fatalf("got %q, %v, want one of %q", body, err, st.bodies)
				}
				seen[body] = true
			}
			if len(seen) != len(st.bodies) {
				t.Errorf("got answers from %v, want from each of %q", seen, st.bodies)
			}
		})
	}
	close(release)
	if err := recv(t, slowDone); err != nil {
		t.Errorf("request in flight on the removed endpoint: %v", err)
	}
	ev := rec.snapshot()
	if !slices.Contains(ev.removed, addrA) || len(ev.health) != 1 || !ev.health[addrB] {
		t.Errorf("got events %+v, want a removed and only b reported", ev)
	}
}

// TestDNSNameGone answers 503 UH when a name has no address left.
func TestDNSNameGone(t *testing.T) {
	res := &resolver{}
	p := newPool(t, spec(t, `endpoints: ["gone.test:80"]`), Options{Resolver: res})
	_, _, err := get(t, p, nil)
	if e := upstreamError(t, err); e.Status != http.StatusServiceUnavailable || e.Err != ErrNoHealthy {
		t.Errorf("got %d %v, want 503 no healthy endpoint", e.Status, e.Err)
	}
}

// TestDNSManyAddresses keeps every address of a name, sorted, each an
// endpoint with the name's weight.
func TestDNSManyAddresses(t *testing.T) {
	res := &resolver{}
	res.set("pods.test", "127.0.0.3", "127.0.0.2", "127.0.0.3")
	p := newPool(t, spec(t, `endpoints: [{address: "pods.test:8080", weight: 2}, "127.0.0.9:8080"]`), Options{Resolver: res})
	err := eventually(func() error {
		if got, want := endpointsOf(p), []string{"127.0.0.2:8080", "127.0.0.3:8080", "127.0.0.9:8080"}; !slices.Equal(got, want) {
			return fmt.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range p.Status().Endpoints {
		wantName, wantWeight := "pods.test:8080", 2
		if i == 2 {
			wantName, wantWeight = "", 1
		}
		if e.Name != wantName || e.Weight != wantWeight {
			t.Errorf("endpoint %d: got name %q weight %d, want %q %d", i, e.Name, e.Weight, wantName, wantWeight)
		}
	}
}
