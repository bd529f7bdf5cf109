package upstream

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

func TestMayEject(t *testing.T) {
	tests := []struct {
		ejected, n, percent int
		want                bool
	}{
		{0, 1, 100, true},
		{0, 1, 99, false},
		{1, 1, 100, false},
		{0, 2, 50, true},
		{1, 2, 50, false},
		{1, 2, 100, false}, // the last one stays
		{0, 2, 49, false},
		{1, 3, 100, true},
		{2, 3, 100, false},
		{0, 10, 10, true},
		{1, 10, 10, false},
		{0, 5, 10, false}, // a tenth of five is no endpoint
		{2, 10, 30, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d of %d at %d%%", tt.ejected, tt.n, tt.percent), func(t *testing.T) {
			if got := mayEject(tt.ejected, tt.n, tt.percent); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEjectDeadEndpoint kills one of two backends: the pool ejects it after
// exactly consecutive_connect_failures failures, sends everything to the
// other, and takes it back once it is up again and its ejection is over.
func TestEjectDeadEndpoint(t *testing.T) {
	a, b := newBackend(t, "a", nil), newBackend(t, "b", nil)
	rec := newRecorder()
	p := newPool(t, spec(t, fmt.Sprintf(`endpoints: [%q, %q]
		outlier: { consecutive_connect_failures: 3, base_ejection_time: 200ms }`, a.addr, b.addr)), Options{Observer: rec})
	a.stop()
	failures := 0
	for range 20 {
		attempt := &Attempt{}
		_, body, err := get(t, p, attempt)
		switch {
		case err != nil:
			if e := upstreamError(t, err); e.Flags != accesslog.UpstreamConnectionFailure || e.Status != http.StatusServiceUnavailable {
				t.Fatalf("got %d %v, want 503 UF", e.Status, e.Flags)
			}
			failures++
		case body != "b":
			t.Fatalf("got %q, want b", body)
		}
	}
	if failures != 3 {
		t.Errorf("got %d failed requests, want 3 (the threshold)", failures)
	}
	st := p.Status()
	if !st.Endpoints[0].Ejected || st.Endpoints[0].Ejections != 1 || st.Endpoints[0].EjectedUntil == nil {
		t.Errorf("got status %+v, want a ejected once", st.Endpoints[0])
	}
	if ev := rec.snapshot(); ev.ejected != 1 || ev.health[a.addr] || !ev.health[b.addr] {
		t.Errorf("got events %+v, want one ejection with a unhealthy and b healthy", ev)
	}
	a.start()
	err := eventually(func() error {
		if _, body, err := get(t, p, nil); err != nil || body != "a" {
			return fmt.Errorf("got %q, %v, want a", body, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if st := p.Status(); st.Endpoints[0].Ejected {
		t.Errorf("got a still ejected after its time, want it back")
	}
	if ev := rec.snapshot(); !ev.health[a.addr] {
		t.Errorf("got a reported unhealthy after its return, want healthy")
	}
}

// TestEject5xx ejects an endpoint that answers 5xx in a row; a success in
// between resets the count.
func TestEject5xx(t *testing.T) {
	bad := newBackend(t, "bad", func(w http.ResponseWriter, r *http.Request, hit int64) {
		if hit == 2 {
			w.Write([]byte("ok once")) // breaks the first run of failures
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	})
	good := newBackend(t, "good", nil)
	p := newPool(t, spec(t, fmt.Sprintf(`endpoints: [%q, %q]
		outlier: { consecutive_5xx: 2, base_ejection_time: 1m }`, bad.addr, good.addr)), Options{})
	for range 20 {
		get(t, p, nil)
	}
	// bad: 500, ok, 500, 500 → ejected after its fourth request.
	if got := bad.hits.Load(); got != 4 {
		t.Errorf("got %d requests on bad, want 4", got)
	}
	if !p.Status().Endpoints[0].Ejected {
		t.Errorf("got bad not ejected, want ejected")
	}
}

// TestEjectionGrows checks that each ejection of the same endpoint lasts
// one base longer, up to max_ejection_time, and that the time back earns
// the record back.
func TestEjectionGrows(t *testing.T) {
	p, err := New(spec(t, `endpoints: ["10.0.0.1:80", "10.0.0.2:80"]
		outlier: { consecutive_5xx: 1, base_ejection_time: 1h, max_ejection_time: 150m }`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	e := p.set.Load().all[0]
	tests := []struct {
		name     string
		returned time.Duration // how long ago the last ejection ended
		want     time.Duration
	}{
		{"first", 0, time.Hour},
		{"second, back at once", time.Second, 2 * time.Hour},
		{"third, capped", time.Second, 150 * time.Minute},
		{"after a long time back", 5 * time.Hour, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.returned > 0 {
				p.unEject(e)
				p.mu.Lock()
				e.returned = time.Now().Add(-tt.returned)
				p.mu.Unlock()
			}
			start := time.Now()
			p.observe(e, 0, connectFailure)
			p.mu.Lock()
			got := e.ejectedUntil.Sub(start)
			p.mu.Unlock()
			if got < tt.want || got > tt.want+time.Minute {
				t.Errorf("got ejection of %v, want %v", got, tt.want)
			}
		})
	}
}
