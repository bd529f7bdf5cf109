package upstream

import (
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// backend is a real HTTP server on 127.0.0.1 that a test can stop and start
// again on the same address. It answers with its name unless handle says
// otherwise, and counts requests and health probes apart.
type backend struct {
	t      testing.TB
	name   string
	addr   string
	handle func(w http.ResponseWriter, r *http.Request, hit int64)
	probe  http.HandlerFunc
	hits   atomic.Int64
	probes atomic.Int64

	mu  sync.Mutex
	srv *http.Server
}

func newBackend(t testing.TB, name string, handle func(w http.ResponseWriter, r *http.Request, hit int64)) *backend {
	t.Helper()
	return newProbedBackend(t, name, handle, nil)
}

// newProbedBackend is newBackend with probe answering the health checks.
func newProbedBackend(t testing.TB, name string, handle func(w http.ResponseWriter, r *http.Request, hit int64), probe http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{t: t, name: name, handle: handle, probe: probe}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.addr = ln.Addr().String()
	b.serve(ln)
	t.Cleanup(b.stop)
	return b
}

func (b *backend) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.UserAgent() == healthUserAgent {
			if b.probes.Add(1); b.probe != nil {
				b.probe(w, r)
				return
			}
		} else if n := b.hits.Add(1); b.handle != nil {
			b.handle(w, r, n)
			return
		}
		io.WriteString(w, b.name)
	})}
	// HTTP/1, and HTTP/2 with prior knowledge for pools that speak it.
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	go srv.Serve(ln)
}

// stop closes the listener and every connection: the endpoint is dead.
func (b *backend) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv != nil {
		b.srv.Close()
		b.srv = nil
	}
}

// start listens on the backend's address again.
func (b *backend) start() {
	b.t.Helper()
	var ln net.Listener
	err := eventually(func() error {
		var err error
		ln, err = net.Listen("tcp", b.addr)
		return err
	})
	if err != nil {
		b.t.Fatalf("restart %s: %v", b.name, err)
	}
	b.serve(ln)
}
