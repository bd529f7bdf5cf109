package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/gateway/internal/loopbacktest"
)

// statuses answers each request with the next status of the list, then
// 200; it records the bodies it received.
type statuses struct {
	mu     sync.Mutex
	list   []int
	bodies []string
}

func (s *statuses) handle(w http.ResponseWriter, r *http.Request, hit int64) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	code := http.StatusOK
	if int(hit) <= len(s.list) {
		code = s.list[hit-1]
	}
	s.mu.Unlock()
	w.WriteHeader(code)
	fmt.Fprintf(w, "%d", code)
}

// TestRetryPolicy sends one request to a backend whose answers the case
// sets and counts the tries that reach it.
func TestRetryPolicy(t *testing.T) {
	big := strings.Repeat("x", maxReplay+1)
	tests := []struct {
		name      string
		method    string
		body      io.Reader
		retries   string
		answers   []int
		wantCode  int
		wantHits  int
		wantFlags accesslog.Flags
		wantBody  string // what every try's request carried
	}{
		{"503 retried", "GET", nil, "{ on: [\"503\"] }", []int{503}, 200, 2, 0, ""},
		{"503 exhausted", "GET", nil, "{ attempts: 2, on: [\"503\"] }", []int{503, 503, 503}, 503, 3, accesslog.UpstreamRetryLimitExceeded, ""},
		{"not a retried status", "GET", nil, "{ on: [\"503\"] }", []int{500}, 500, 1, 0, ""},
		{"5xx", "GET", nil, "{ on: [5xx] }", []int{500, 502}, 200, 3, 0, ""},
		{"gateway-error not 500", "GET", nil, "{ on: [gateway-error] }", []int{500}, 500, 1, 0, ""},
		{"gateway-error 504", "GET", nil, "{ on: [gateway-error] }", []int{504}, 200, 2, 0, ""},
		{"4xx code", "GET", nil, "{ on: [409] }", []int{409}, 200, 2, 0, ""},
		{"connect-failure only", "GET", nil, "{ on: [connect-failure] }", []int{503}, 503, 1, 0, ""},
		{"POST not retried", "POST", strings.NewReader("hello"), "{ on: [\"503\"] }", []int{503}, 503, 1, 0, "hello"},
		{"POST retried when allowed", "POST", strings.NewReader("hello"), "{ on: [\"503\"], retry_non_idempotent: true }", []int{503}, 200, 2, 0, "hello"},
		{"PUT body replayed", "PUT", strings.NewReader("payload"), "{ on: [\"503\"] }", []int{503, 503}, 200, 3, 0, "payload"},
		{"PUT stream not retried", "PUT", io.MultiReader(strings.NewReader("str"), strings.NewReader("eam")), "{ on: [\"503\"] }", []int{503}, 503, 1, 0, "stream"},
		{"PUT large body not retried", "PUT", strings.NewReader(big), "{ on: [\"503\"] }", []int{503}, 503, 1, 0, big},
		{"DELETE retried", "DELETE", nil, "{ on: [\"503\"] }", []int{503}, 200, 2, 0, ""},
		{"PATCH not retried", "PATCH", nil, "{ on: [\"503\"] }", []int{503}, 503, 1, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &statuses{list: tt.answers}
			b := newBackend(t, "b", st.handle)
			p := newPool(t, spec(t, fmt.Sprintf("endpoints: [%q]", b.addr)), Options{})
			a := &Attempt{Retry: policy(t, tt.retries)}
			code, _, err := send(t, p, tt.method, tt.body, a)
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode || a.Flags != tt.wantFlags {
				t.Errorf("got %d %v, want %d %v", code, a.Flags, tt.wantCode, tt.wantFlags)
			}
			if got := int(b.hits.Load()); got != tt.wantHits || a.Tries != tt.wantHits {
				t.Errorf("got %d hits and %d tries, want %d", got, a.Tries, tt.wantHits)
			}
			for i, body := range st.bodies {
				if body != tt.wantBody {
					t.Errorf("try %d: got a body of %d bytes, want %d", i, len(body), len(tt.wantBody))
				}
			}
		})
	}
}

// TestRetryFailures retries transport failures: a dead endpoint, a reset
// and a per-try timeout, on another endpoint when there is one.
func TestRetryFailures(t *testing.T) {
	dead := &backend{name: "dead", addr: loopbacktest.RefusedAddr(t)}
	reset := newBackend(t, "reset", func(w http.ResponseWriter, r *http.Request, hit int64) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	slow := newBackend(t, "slow", func(w http.ResponseWriter, r *http.Request, hit int64) {
		<-r.Context().Done() // answers only when the gateway gives up
	})
	live := newBackend(t, "live", nil)
	tests := []struct {
		name       string
		endpoints  []*backend
		retries    string
		wantBody   string
		wantStatus int
		wantFlags  accesslog.Flags
		wantTries  int
		wantText   string
	}{
		{"connect failure moves on", []*backend{dead, live}, "{ on: [connect-failure] }", "live", 0, 0, 2, ""},
		{"reset moves on", []*backend{reset, live}, "{ on: [reset] }", "live", 0, 0, 2, ""},
		{"per-try timeout moves on", []*backend{slow, live}, "{ on: [5xx], per_try_timeout: 100ms }", "live", 0, 0, 2, ""},
		{"connect failure not retried on 503", []*backend{dead, live}, "{ on: [\"503\"] }", "", 503, accesslog.UpstreamConnectionFailure, 1,
			"reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused"},
		{"connect failures exhausted", []*backend{dead}, "{ attempts: 2, on: [connect-failure] }", "", 503,
			accesslog.UpstreamConnectionFailure | accesslog.UpstreamRetryLimitExceeded, 3,
			"retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused"},
		{"reset", []*backend{reset}, "", "", 503, accesslog.UpstreamConnectionTermination, 1, "reset reason: connection termination"},
		{"per-try timeout", []*backend{slow}, "{ attempts: 1, on: [connect-failure], per_try_timeout: 100ms }", "", 504,
			accesslog.UpstreamRequestTimeout, 1, "upstream request timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var eps []string
			for _, b := range tt.endpoints {
				eps = append(eps, fmt.Sprintf("%q", b.addr))
			}
			p := newPool(t, spec(t, "endpoints: ["+strings.Join(eps, ", ")+"]"), Options{})
			a := &Attempt{}
			if tt.retries != "" {
				a.Retry = policy(t, tt.retries)
			}
			_, body, err := get(t, p, a)
			if tt.wantStatus == 0 {
				if err != nil || body != tt.wantBody {
					t.Fatalf("got %q, %v, want %q", body, err, tt.wantBody)
				}
			} else {
				e := upstreamError(t, err)
				if e.Status != tt.wantStatus || e.Flags != tt.wantFlags || !strings.Contains(e.Body, tt.wantText) {
					t.Errorf("got %d %v %q, want %d %v %q", e.Status, e.Flags, e.Body, tt.wantStatus, tt.wantFlags, tt.wantText)
				}
				if a.Flags != e.Flags || a.Details != e.Details {
					t.Errorf("got attempt %v %q, want the error's %v %q", a.Flags, a.Details, e.Flags, e.Details)
				}
			}
			if a.Tries != tt.wantTries || a.Endpoint != tt.endpoints[(tt.wantTries-1)%len(tt.endpoints)].addr {
				t.Errorf("got %d tries ending on %s, want %d", a.Tries, a.Endpoint, tt.wantTries)
			}
		})
	}
}

// TestCallerGone returns the context's own error when the caller's context
// ends, with no flags: the gateway decides what that means.
func TestCallerGone(t *testing.T) {
	arrived := make(chan struct{}, 1)
	b := newBackend(t, "b", func(w http.ResponseWriter, r *http.Request, hit int64) {
		arrived <- struct{}{}
		<-r.Context().Done()
	})
	p := newPool(t, spec(t, fmt.Sprintf("endpoints: [%q]", b.addr)), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://up.test/", nil)
	a := &Attempt{Retry: policy(t, "{ on: [5xx, reset] }")}
	go func() {
		<-arrived
		cancel()
	}()
	_, err := p.RoundTrip(req, a)
	var ue *Error
	if !errors.Is(err, context.Canceled) || errors.As(err, &ue) || a.Flags != 0 || a.Tries != 1 {
		t.Errorf("got %v, flags %v, %d tries, want context.Canceled alone after 1 try", err, a.Flags, a.Tries)
	}
	if n := p.Status().ActiveRequests; n != 0 {
		t.Errorf("got %d requests in progress after return, want 0", n)
	}
}

// TestRetryBudget holds ten requests at a backend that fails them all at
// once: with min_retry_concurrency 1 and 20% of ten requests, two retries
// may be in progress, so two requests are retried and eight end with UO.
func TestRetryBudget(t *testing.T) {
	const n = 10
	var mu sync.Mutex
	firsts := 0
	allIn := make(chan struct{})
	releaseRetries := make(chan struct{})
	b := newBackend(t, "b", func(w http.ResponseWriter, r *http.Request, hit int64) {
		// The first n requests are first tries; the rest are retries.
		mu.Lock()
		first := firsts < n
		if first {
			firsts++
			if firsts == n {
				close(allIn)
			}
		}
		mu.Unlock()
		if first {
			<-allIn
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		<-releaseRetries
		w.Write([]byte("retried"))
	})
	rec := newRecorder()
	p := newPool(t, spec(t, fmt.Sprintf(`endpoints: [%q]
		retry_budget: { percent: 20, min_retry_concurrency: 1 }`, b.addr)), Options{Observer: rec})
	pol := policy(t, `{ attempts: 3, on: ["503"], backoff: { base: 1ms } }`)
	type outcome struct {
		code  int
		flags accesslog.Flags
	}
	results := make(chan outcome, n)
	for range n {
		go func() {
			a := &Attempt{Retry: pol}
			code, _, err := get(t, p, a)
			if err != nil {
				code = -1
			}
			results <- outcome{code, a.Flags}
		}()
	}
	for range n - 2 {
		o := recv(t, results)
		if o.code != http.StatusServiceUnavailable || o.flags != accesslog.UpstreamOverflow {
			t.Errorf("got %d %v, want 503 UO for a refused retry", o.code, o.flags)
		}
	}
	err := eventually(func() error {
		if got := b.hits.Load(); got < n+2 {
			return fmt.Errorf("got %d backend hits, want %d", got, n+2)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	close(releaseRetries)
	for range 2 {
		if o := recv(t, results); o.code != http.StatusOK || o.flags != 0 {
			t.Errorf("got %d %v, want 200 for a retried request", o.code, o.flags)
		}
	}
	if got := b.hits.Load(); got != n+2 {
		t.Errorf("got %d backend hits, want %d: ten first tries and two retries", got, n+2)
	}
	ev := rec.snapshot()
	want := map[string]int{RetryRetried: 2, RetrySucceeded: 2, RetryOverflow: n - 2}
	for k, v := range want {
		if ev.retries[k] != v {
			t.Errorf("got %d %s retries, want %d", ev.retries[k], k, v)
		}
	}
	if ev.active != 0 {
		t.Errorf("got %d requests active at the end, want 0", ev.active)
	}
}
