package gateway

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/egress"
	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
)

// loopDialer stands for the guarded dialer in tests: it "resolves" the
// names it is given to loopback addresses and dials only those, so that no
// test sends a byte anywhere but 127.0.0.1. It counts every dial asked of
// it, by host:port.
type loopDialer struct {
	mu     sync.Mutex
	names  map[string]string // host:port → 127.0.0.1:port
	refuse map[string]bool   // hosts the guard refuses
	dials  map[string]int
}

func newLoopDialer() *loopDialer {
	return &loopDialer{names: map[string]string{}, refuse: map[string]bool{}, dials: map[string]int{}}
}

// route makes host:port reach addr, a loopback address.
func (d *loopDialer) route(hostport, addr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.names[hostport] = addr
}

func (d *loopDialer) dialed() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.dials {
		n += c
	}
	return n
}

func (d *loopDialer) dial(ctx context.Context, host string, port uint16, allowed []netip.Prefix) (net.Conn, netip.AddrPort, error) {
	key := net.JoinHostPort(host, strconv.Itoa(int(port)))
	d.mu.Lock()
	d.dials[key]++
	target, ok := d.names[key]
	refused := d.refuse[host]
	d.mu.Unlock()
	if refused {
		return nil, netip.AddrPort{}, fmt.Errorf("%s: private address in 10.0.0.0/8: %w", key, egress.ErrRefused)
	}
	if !ok {
		return nil, netip.AddrPort{}, fmt.Errorf("%s: %w", host, egress.ErrNXDomain)
	}
	ap := netip.MustParseAddrPort(target)
	if !ap.Addr().IsLoopback() {
		panic("a test dial to " + target)
	}
	var nd net.Dialer
	c, err := nd.DialContext(ctx, "tcp", target)
	return c, ap, err
}

// startProxy serves a forward_proxy listener named egress, with the rest
// of the routes file given, through dialer d; the access log is JSON.
func startProxy(t testing.TB, rest string, d *loopDialer) *testGateway {
	t.Helper()
	cfg := loadProxyConfig(t, `
listeners:
  - { name: egress, address: "127.0.0.1:0", kind: forward_proxy, protocols: [http1, http2] }
`+rest)
	return serveWithDial(t, cfg, d)
}

func loadProxyConfig(t testing.TB, yaml string) *routes.Config {
	t.Helper()
	return loadProxyConfigAt(t, filepath.Join(t.TempDir(), "routes.yaml"), yaml)
}

// echoServer is a TCP server that echoes every connection and counts them.
type echoServer struct {
	ln       net.Listener
	accepted atomic.Int64
}

func newEchoServer(t testing.TB) *echoServer {
	t.Helper()
	s := &echoServer{}
	s.ln = serveConns(t, nil, func(c net.Conn) {
		s.accepted.Add(1)
		io.Copy(c, c)
	})
	return s
}

// serveConns listens on loopback, over TLS with cfg unless it is nil, and
// hands each connection to handle on a goroutine of its own, closing it
// when handle returns, until the test ends.
func serveConns(tb testing.TB, cfg *tls.Config, handle func(c net.Conn)) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln
}

func (s *echoServer) addr() string { return s.ln.Addr().String() }

// connectH1 sends CONNECT authority over HTTP/1.1 with request id id and
// returns the connection, positioned after the response's head.
func connectH1(t testing.TB, proxy, authority, id string, header ...string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	req := fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\nX-Request-Id: %s\r\n", authority, authority, id)
	for _, h := range header {
		req += h + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatalf("CONNECT %s: %v", authority, err)
	}
	return c, br, resp
}

// labeled sums the metric name's series whose labels include match.
func labeled(t testing.TB, g *Gateway, name string, match map[string]string) float64 {
	t.Helper()
	fams, err := g.metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range match {
				if labels[k] != v {
					continue series
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// proxyRequest sends raw, an HTTP/1.1 request, to the proxy and returns
// the final response's status and body.
func proxyRequest(t testing.TB, proxy, raw string) (int, string) {
	t.Helper()
	return proxyRequestFrom(t, nil, proxy, raw)
}

// proxyRequestFrom is proxyRequest from the loopback address from (nil:
// any).
func proxyRequestFrom(t testing.TB, from *net.TCPAddr, proxy, raw string) (int, string) {
	t.Helper()
	c, err := (&net.Dialer{LocalAddr: from}).Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	for err == nil && resp.StatusCode < 200 {
		resp, err = http.ReadResponse(br, nil)
	}
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// egressField is what the forward proxy wrote under key in a JSON log
// line's dynamic metadata, or nil.
func egressField(e map[string]any, key string) any {
	md, _ := e["dynamic_metadata"].(map[string]any)
	ns, _ := md["portcullis.egress"].(map[string]any)
	return ns[key]
}

// serveWithDial serves cfg through dialer d, with a JSON access log.
func serveWithDial(t testing.TB, cfg *routes.Config, d *loopDialer) *testGateway {
	t.Helper()
	return serveWith(t, cfg, accesslog.Options{Format: "json"},
		Options{Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), EgressDial: d.dial, DrainTimeout: 5 * time.Second})
}

// loadProxyConfigAt loads yaml as the routes file at path, whose directory
// holds the files it names.
func loadProxyConfigAt(t testing.TB, path, yaml string) *routes.Config {
	t.Helper()
	reg, err := plugins.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(yaml, "admin:") {
		yaml = "admin: { address: \"127.0.0.1:0\" }\n" + yaml
	}
	cfg, err := routes.Parse(path, []byte(yaml), reg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
