package upstream

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// TestHealthChecks turns a backend's health check down and up: the pool
// follows after exactly unhealthy_threshold failed probes and
// healthy_threshold good ones, and sends traffic only to healthy endpoints.
func TestHealthChecks(t *testing.T) {
	// answered counts the probes answered since the status last changed,
	// under the lock that changes it, so that a probe counts under the
	// status it got.
	var mu sync.Mutex
	status, answered := http.StatusOK, 0
	sick := newProbedBackend(t, "sick", nil, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		code := status
		answered++
		mu.Unlock()
		w.WriteHeader(code)
	})
	well := newBackend(t, "well", nil)
	// atChange receives answered as it was when the pool reported a
	// change of sick's health: the checker reports it before it sends
	// its next probe.
	atChange := make(chan int, 10)
	obs := &healthHook{on: func(ep string, healthy bool) {
		if ep == sick.addr {
			mu.Lock()
			atChange <- answered
			mu.Unlock()
		}
	}}
	p := newPool(t, spec(t, fmt.Sprintf(`endpoints: [%q, %q]
		health: { path: /healthz, interval: 100ms, timeout: 100ms, unhealthy_threshold: 3, healthy_threshold: 2, expected_statuses: [200-299] }`,
		sick.addr, well.addr)), Options{Observer: obs})
	recv(t, atChange) // the first report, at Start
	steps := []struct {
		name      string
		status    int
		healthy   bool
		threshold int
	}{
		{"down after 3 failures", http.StatusServiceUnavailable, false, 3},
		{"up after 2 passes", http.StatusOK, true, 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			mu.Lock()
			status, answered = st.status, 0
			mu.Unlock()
			got := recv(t, atChange)
			if h := p.Status().Endpoints[0].Healthy; h != st.healthy {
				t.Fatalf("got healthy %v, want %v", h, st.healthy)
			}
			if got != st.threshold {
				t.Errorf("got %d probes answered before the change, want %d", got, st.threshold)
			}
			if !st.healthy {
				for range 10 {
					if _, body, err := get(t, p, nil); err != nil || body != "well" {
						t.Fatalf("got %q, %v, want well while sick is down", body, err)
					}
				}
			}
		})
	}
}

// recv receives from ch, failing the test rather than hanging when nothing
// comes.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received in 10s")
		panic("unreachable")
	}
}

// healthHook is an Observer that calls on for each health report.
type healthHook struct {
	nopObserver
	on func(endpoint string, healthy bool)
}

func (h *healthHook) EndpointHealth(endpoint string, healthy bool) { h.on(endpoint, healthy) }

// TestNoHealthyEndpoint answers 503 UH once every endpoint failed its
// health check.
func TestNoHealthyEndpoint(t *testing.T) {
	a, b := newBackend(t, "a", nil), newBackend(t, "b", nil)
	a.stop()
	b.stop()
	p := newPool(t, spec(t, fmt.Sprintf(`endpoints: [%q, %q]
		health: { path: /healthz, interval: 100ms, timeout: 100ms, unhealthy_threshold: 1 }`, a.addr, b.addr)), Options{})
	err := eventually(func() error {
		for _, e := range p.Status().Endpoints {
			if e.Healthy {
				return errors.New("an endpoint is still healthy")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	attempt := &Attempt{}
	_, _, err = get(t, p, attempt)
	e := upstreamError(t, err)
	if e.Status != http.StatusServiceUnavailable || e.Flags != accesslog.NoHealthyUpstream || e.Details != "no_healthy_upstream" {
		t.Errorf("got %d %v %q, want 503 UH no_healthy_upstream", e.Status, e.Flags, e.Details)
	}
	if !errors.Is(err, ErrNoHealthy) || attempt.Flags != accesslog.NoHealthyUpstream || attempt.Tries != 0 {
		t.Errorf("got attempt %+v, err %v, want UH before any try", attempt, err)
	}
}
