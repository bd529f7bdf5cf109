package gateway

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
)

// targets records, by x-request-id, the request target each request carried
// to where it was recorded: the raw bytes of an HTTP/1 request line, an
// HTTP/2 :path, or the path a route matched.
type targets struct {
	mu   sync.Mutex
	seen map[string]target
	hits atomic.Int64
}

// target is one recorded request target and the Host it came with.
type target struct{ uri, host string }

func newTargets() *targets { return &targets{seen: make(map[string]target)} }

func (ts *targets) record(id, uri, host string) {
	ts.hits.Add(1)
	ts.mu.Lock()
	ts.seen[id] = target{uri, host}
	ts.mu.Unlock()
}

// get returns what was recorded for id; ok is false when nothing was.
func (ts *targets) get(id string) (target, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	tg, ok := ts.seen[id]
	return tg, ok
}

// targetBackend is an HTTP/1 upstream on a raw socket that records the request
// target exactly as the bytes of the request line and answers 200 with no
// body. It serves until tb ends.
func targetBackend(tb testing.TB, ts *targets) string {
	tb.Helper()
	return serveRaw(tb, nil, func(c net.Conn) { serveTargets(c, ts) })
}

// serveTargets answers the bodiless requests of one connection.
func serveTargets(c net.Conn, ts *targets) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		parts := strings.Split(strings.TrimSuffix(line, "\r\n"), " ")
		if len(parts) != 3 {
			return
		}
		var id, host string
		for {
			h, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if h == "\r\n" {
				break
			}
			name, value, _ := strings.Cut(strings.TrimSuffix(h, "\r\n"), ":")
			switch strings.ToLower(name) {
			case "x-request-id":
				id = strings.TrimSpace(value)
			case "host":
				host = strings.TrimSpace(value)
			}
		}
		ts.record(id, parts[1], host)
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); err != nil {
			return
		}
	}
}

// recordURI is a handler for Go's servers recording r.RequestURI, which
// for HTTP/2 is the :path as it arrived.
func recordURI(ts *targets) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ts.record(r.Header.Get("X-Request-Id"), r.RequestURI, r.Host)
	}
}

// h2cBackend is an upstream speaking HTTP/2 without TLS that records each
// :path.
func h2cBackend(tb testing.TB, ts *targets) string {
	srv := httptest.NewUnstartedServer(recordURI(ts))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	tb.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// matchedPath is a plugin that records the path the route matched, as
// plugins see it, with the query: the target the gateway should forward.
func matchedPath(ts *targets) plugins.Factory {
	return plugins.Factory{
		Name:   "matched_path",
		Config: func() any { return &struct{}{} },
		Build: func(any) (plugins.Handler, error) {
			return pluginFunc(func(_ context.Context, req *plugins.Request) error {
				ts.record(req.ID, withQuery(req.Path(), req.Query()), req.Authority())
				return nil
			}), nil
		},
	}
}

type pluginFunc func(context.Context, *plugins.Request) error

func (f pluginFunc) HandleRequest(ctx context.Context, req *plugins.Request) error {
	return f(ctx, req)
}

// sendRaw sends a bodiless GET of target on a new connection to addr and
// returns the status code the gateway answered, 0 when none came.
func sendRaw(tb testing.TB, addr, target, host, id string) int {
	tb.Helper()
	status, _ := sendRawHeader(tb, addr, target, host, id)
	return status
}

// sendRawHeader is sendRaw returning the response header too.
func sendRawHeader(tb testing.TB, addr, target, host, id string) (int, http.Header) {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: "+host+"\r\nX-Request-Id: "+id+"\r\nConnection: close\r\n\r\n"); err != nil {
		tb.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, nil
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// sendVia sends a GET of target with client, which speaks HTTP/2 or HTTP/3,
// so that its :path is target byte for byte.
func sendVia(tb testing.TB, client *http.Client, scheme, addr, target, host, id string) int {
	tb.Helper()
	u := &url.URL{Scheme: scheme, Host: addr, Opaque: target}
	if strings.HasPrefix(target, "//") {
		// An Opaque of //x is written as scheme://x; the client then
		// strips scheme://host, leaving the target.
		u.Opaque = "//" + host + target
	}
	req := &http.Request{Method: http.MethodGet, URL: u, Host: host, Header: http.Header{"X-Request-Id": {id}}}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatalf("GET %q: %v", target, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
