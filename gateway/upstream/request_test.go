package upstream

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// brokenBody reads a little, then fails as a client's body whose framing
// breaks does, and reports it.
type brokenBody struct {
	sent   bool
	failed bool
}

func (b *brokenBody) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		return copy(p, "hi"), nil
	}
	b.failed = true
	return 0, errors.New("invalid byte in chunk length")
}

func (b *brokenBody) Close() error     { return nil }
func (b *brokenBody) ReadFailed() bool { return b.failed }

// TestRequestFaultSparesEndpoints checks that a try that fails by the
// request's own fault, a request no transport sends or a body that breaks,
// is answered for what it is (500 or 400, no upstream flag), is neither
// retried nor counted by outlier detection, and reaches no endpoint.
func TestRequestFaultSparesEndpoints(t *testing.T) {
	tests := []struct {
		name     string
		protocol string
		edit     func(r *http.Request)
		status   int
		details  string
	}{
		{"method not a token", "http1", func(r *http.Request) { r.Method = `G"T` }, 500, "upstream_request_invalid{invalid_method}"},
		{"method high byte", "http2", func(r *http.Request) { r.Method = "GET\x80" }, 500, "upstream_request_invalid{invalid_method}"},
		{"header name", "http1", func(r *http.Request) { r.Header["A b"] = []string{"1"} }, 500, "upstream_request_invalid{invalid_header}"},
		{"header value", "http1", func(r *http.Request) { r.Header["X-A"] = []string{"1\r\nX-B: 2"} }, 500, "upstream_request_invalid{invalid_header}"},
		{"header value h2", "http2", func(r *http.Request) { r.Header["X-A"] = []string{"1\x00"} }, 500, "upstream_request_invalid{invalid_header}"},
		{"trailer name", "http1", func(r *http.Request) { r.Trailer = http.Header{"a b": nil} }, 500, "upstream_request_invalid{invalid_trailer}"},
		{"trailer name h2", "http2", func(r *http.Request) { r.Trailer = http.Header{`x"y`: nil} }, 500, "upstream_request_invalid{invalid_trailer}"},
		{"framing trailer h2", "http2", func(r *http.Request) { r.Trailer = http.Header{"Content-Length": nil} }, 500, "upstream_request_invalid{invalid_trailer}"},
		{"host h2", "http2", func(r *http.Request) { r.Host = "sh op" }, 500, "upstream_request_invalid{invalid_host}"},
		{"control byte in target", "http1", func(r *http.Request) { r.URL.Opaque = "/a\x01b" }, 500, "upstream_request_invalid{invalid_target}"},
		{"upgrade over h2", "http2", func(r *http.Request) {
			r.Header["Connection"], r.Header["Upgrade"] = []string{"Upgrade"}, []string{"websocket"}
		}, 500, "upstream_request_invalid{invalid_upgrade}"},
		{"connection over h2", "http2", func(r *http.Request) { r.Header["Connection"] = []string{"x-secret"} }, 500, "upstream_request_invalid{invalid_header}"},
		{"broken body", "http1", func(r *http.Request) { r.Method, r.Body, r.ContentLength = "POST", &brokenBody{}, -1 }, 400, "request_body_invalid"},
		{"broken body h2", "http2", func(r *http.Request) { r.Method, r.Body, r.ContentLength = "POST", &brokenBody{}, -1 }, 400, "request_body_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The endpoints answer a request read whole, so that a body
			// that breaks is never outrun by an answer.
			whole := func(name string) func(w http.ResponseWriter, r *http.Request, hit int64) {
				return func(w http.ResponseWriter, r *http.Request, hit int64) {
					if _, err := io.Copy(io.Discard, r.Body); err == nil {
						io.WriteString(w, name)
					}
				}
			}
			a, b := newBackend(t, "a", whole("a")), newBackend(t, "b", whole("b"))
			rec := newRecorder()
			p := newPool(t, spec(t, fmt.Sprintf(`endpoints: [%q, %q]
				protocol: %s
				outlier: { consecutive_5xx: 1, consecutive_connect_failures: 1, base_ejection_time: 1m, max_ejection_percent: 50 }`,
				a.addr, b.addr, tt.protocol)), Options{Observer: rec})
			for i := 0; i < 6; i++ {
				req, err := http.NewRequest(http.MethodGet, "http://up.test/path", nil)
				if err != nil {
					t.Fatal(err)
				}
				tt.edit(req)
				att := &Attempt{Retry: policy(t, "{ attempts: 3, on: [reset, 5xx, connect-failure], retry_non_idempotent: true }")}
				_, _, err = finishRequest(p, req, att)
				e := upstreamError(t, err)
				if e.Status != tt.status || e.Flags != 0 || e.Details != tt.details || att.Tries != 1 {
					t.Fatalf("try %d: got %d %v %q after %d tries (%v), want %d, no flag, %q, one try",
						i, e.Status, e.Flags, e.Details, att.Tries, e.Err, tt.status, tt.details)
				}
			}
			ev := rec.snapshot()
			if ev.ejected != 0 || len(ev.retries) != 0 {
				t.Errorf("got %d ejections and retries %v, want none", ev.ejected, ev.retries)
			}
			// A body is streamed: the endpoint may have the head of a
			// request whose body broke, never the whole request.
			if n := a.hits.Load() + b.hits.Load(); n != 0 && tt.status != 400 {
				t.Errorf("the endpoints received %d requests, want none", n)
			}
			for _, ep := range p.Status().Endpoints {
				if ep.Ejected {
					t.Errorf("endpoint %s ejected", ep.Address)
				}
			}
			for range 4 {
				if _, body, err := get(t, p, nil); err != nil || !strings.Contains("ab", body) {
					t.Fatalf("good request: %q, %v", body, err)
				}
			}
			if a.hits.Load() == 0 || b.hits.Load() == 0 {
				t.Errorf("good requests went %d/%d to the two endpoints", a.hits.Load(), b.hits.Load())
			}
		})
	}
}
