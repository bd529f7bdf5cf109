package upstream

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// FuzzRequestFault checks requestFault against the transports themselves,
// on a real loopback server: every request a transport refuses must be
// named the request's fault (or a refusal would count against a healthy
// endpoint), and no request a transport sends may be (or a real failure of
// the endpoint would be forgiven).
func FuzzRequestFault(f *testing.F) {
	f.Add("GET", "X-A", "1", "", false)
	f.Add(`G"T`, "X-A", "1", "", false)
	f.Add("GET\x80", "X-A", "1", "", true)
	f.Add("POST", "a b", "1", "", false)
	f.Add("POST", "X-A", "1\r\nX-B: 2", "", true)
	f.Add("POST", "X-A", "1", "a b", false)
	f.Add("POST", "Connection", "upgrade", "Content-Length", true)
	f.Add("POST", "Upgrade", "websocket", "", true)
	f.Add("POST", "Transfer-Encoding", "gzip", "", true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
		Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go srv.Serve(ln)
	f.Cleanup(func() { srv.Close() })
	var transports [2]*http.Transport
	for i := range transports {
		t := &http.Transport{Protocols: new(http.Protocols), DisableCompression: true}
		if i == 1 {
			t.Protocols.SetUnencryptedHTTP2(true)
		} else {
			t.Protocols.SetHTTP1(true)
		}
		transports[i] = t
		f.Cleanup(t.CloseIdleConnections)
	}
	f.Fuzz(func(t *testing.T, method, name, value, trailer string, h2 bool) {
		// A field such as Expect can make the exchange wait: it is
		// bounded, and one that times out tells nothing. The bound is
		// short, since the fuzzing engine reports an input still running
		// well past -fuzztime as a failure of its own.
		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/p", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Method = method
		req.Header[name] = []string{value}
		if trailer != "" {
			req.Trailer = http.Header{trailer: nil}
		}
		rt := transports[0]
		if h2 {
			rt = transports[1]
		}
		fault := requestFault(req, &Attempt{}, h2)
		resp, err := rt.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		switch {
		case err != nil && (isConnectFailure(err) || ctx.Err() != nil):
			t.Skip("the exchange did not complete")
		case err != nil && fault == "":
			t.Fatalf("the transport refused %q %q: %q trailer %q (%v), which requestFault does not name", method, name, value, trailer, err)
		case err == nil && fault != "":
			t.Fatalf("requestFault names %q for %q %q: %q trailer %q, which the transport sent", fault, method, name, value, trailer)
		}
	})
}
