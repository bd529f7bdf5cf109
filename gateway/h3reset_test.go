package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// TestHTTP3RapidReset opens request streams over HTTP/3 and cancels each
// at once. Cancelled both ways (STOP_SENDING and RESET_STREAM, as a client
// abandoning a request does), most streams end before the server reads
// their request, and none may start one that reaches the backend.
// Cancelled after the request was sent in full (STOP_SENDING only), every
// stream starts a request: the connection must be closed with
// H3_EXCESSIVE_LOAD before they reach the backend.
func TestHTTP3RapidReset(t *testing.T) {
	ca := newTestCA(t)
	be := newBackend(t, nil)
	crt, key := ca.issue(t, "localhost", "127.0.0.1")
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - name: h3
    address: "127.0.0.1:0"
    protocols: [http1, http2, http3]
    tls: { certificates: [ { cert: %q, key: %q } ] }
    limits: { max_concurrent_streams: 100 }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [ %q ] } ]
`, crt, key, be.addr()))
	for _, tt := range []struct {
		name      string
		cancel    func(*http3.RequestStream)
		wantClose bool
	}{
		{"reset both ways", func(rs *http3.RequestStream) {
			rs.CancelRead(quic.StreamErrorCode(http3.ErrCodeRequestCanceled))
			rs.CancelWrite(quic.StreamErrorCode(http3.ErrCodeRequestCanceled))
		}, false},
		{"request sent, then cancelled", func(rs *http3.RequestStream) {
			rs.Close()
			rs.CancelRead(quic.StreamErrorCode(http3.ErrCodeRequestCanceled))
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hitsBefore, linesBefore := be.hits.Load(), served(t, tg.Gateway)
			closedBefore := metricValue(t, tg.Gateway, "portcullis_downstream_too_many_premature_resets_total", "h3")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tc := ca.clientTLS("localhost")
			tc.NextProtos = []string{http3.NextProtoH3}
			qc, err := quic.DialAddr(ctx, tg.Addr("h3").String(), tc, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer qc.CloseWithError(0, "")
			cc := (&http3.Transport{}).NewClientConn(qc)
			req, _ := http.NewRequest(http.MethodGet, "https://localhost/", nil)
			const streams = 4 * resetLimit
			sent := 0
			for ; sent < streams; sent++ {
				rs, err := cc.OpenRequestStream(ctx)
				if err != nil {
					break
				}
				if err := rs.SendRequestHeader(req); err != nil {
					break
				}
				tt.cancel(rs)
			}
			if tt.wantClose {
				select {
				case <-qc.Context().Done():
				case <-ctx.Done():
					t.Fatalf("connection still open after %d cancelled streams", sent)
				}
				var ae *quic.ApplicationError
				if err := context.Cause(qc.Context()); !errors.As(err, &ae) || !ae.Remote || ae.ErrorCode != quic.ApplicationErrorCode(http3.ErrCodeExcessiveLoad) {
					t.Errorf("connection closed with %v, want H3_EXCESSIVE_LOAD from the server", err)
				}
				if got := metricValue(t, tg.Gateway, "portcullis_downstream_too_many_premature_resets_total", "h3") - closedBefore; got != 1 {
					t.Errorf("connections closed for resets: got %v, want 1", got)
				}
			}
			lines := served(t, tg.Gateway) - linesBefore
			hits := int(be.hits.Load() - hitsBefore)
			t.Logf("%d streams opened and cancelled: %d requests reached the backend, %d requests logged", sent, hits, lines)
			// Streams are counted as their requests start, so up to
			// max_concurrent_streams more than the limit may have started
			// when the connection is closed.
			if bound := resetLimit + 100; hits > bound || lines > bound {
				t.Errorf("got %d requests at the backend and %d logged, want at most %d each", hits, lines, bound)
			}
		})
	}
}

// served waits until the gateway has no request in flight and returns how
// many it has finished: each wrote one access-log line, and the count does
// not wait for the log's buffer to be written out.
func served(t *testing.T, g *Gateway) int {
	t.Helper()
	eventually(t, "requests in flight to end", func() error {
		if n := g.inflight.Load(); n != 0 {
			return fmt.Errorf("%d in flight", n)
		}
		return nil
	})
	fams, err := g.metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, f := range fams {
		if f.GetName() == "istio_requests_total" {
			for _, m := range f.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return int(n)
}
