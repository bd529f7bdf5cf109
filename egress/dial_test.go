package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingListener accepts on 127.0.0.1 and remembers the peer of every
// connection, so that a test can tell that a refusal opened none.
type countingListener struct {
	ln    net.Listener
	port  uint16
	mu    sync.Mutex
	peers []string
}

func listenCounting(t *testing.T) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &countingListener{ln: ln, port: uint16(ln.Addr().(*net.TCPAddr).Port)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.peers = append(c.peers, conn.RemoteAddr().String())
			c.mu.Unlock()
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return c
}

func (c *countingListener) accepted() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.peers...)
}

// expectOnly dials target through d with 127.0.0.1 allowed and checks that
// this connection is the only one the listener ever accepted.
func (c *countingListener) expectOnly(t *testing.T, d *Dialer) {
	t.Helper()
	conn, _, err := d.Dial(context.Background(), Host{addr: netip.MustParseAddr("127.0.0.1")}, c.port, prefixes("127.0.0.1/32"))
	if err != nil {
		t.Fatalf("dial the counting listener itself: %v", err)
	}
	defer conn.Close()
	mine := conn.LocalAddr().String()
	waitUntil(t, "the listener to accept the allowed connection", func() bool {
		return strings.Contains(strings.Join(c.accepted(), " "), mine)
	})
	if got := c.accepted(); len(got) != 1 {
		t.Errorf("the listener accepted %v, want only the allowed %s", got, mine)
	}
}

func newTestDialer(t *testing.T, names map[string]*dnsName, own ...netip.AddrPort) (*Dialer, *dnsServer) {
	t.Helper()
	srv := startDNS(t, names)
	r, _ := newTestResolver(t, srv, ResolverConfig{MinTTL: -1})
	return &Dialer{Resolver: r, Guard: NewGuard(own), Timeout: 5 * time.Second}, srv
}

func TestDialAllowedLoopback(t *testing.T) {
	ln := listenCounting(t)
	d, srv := newTestDialer(t, map[string]*dnsName{"svc.test": {addrs: []string{"127.0.0.1"}, then: []string{"10.0.0.1"}, ttl: 0}})
	h, _ := CanonicalHost("SVC.test.")
	conn, dialled, err := d.Dial(context.Background(), h, ln.port, prefixes("127.0.0.1/32"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if want := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ln.port); dialled.Addr != want || conn.RemoteAddr().String() != want.String() {
		t.Errorf("dialled %s (connection to %s), want %s", dialled.Addr, conn.RemoteAddr(), want)
	}
	if len(dialled.Resolved) != 1 || !dialled.Resolved[0].Allowed || dialled.Resolved[0].Reason != "loopback allowed by 127.0.0.1/32" {
		t.Errorf("verdicts %+v, want 127.0.0.1 allowed by 127.0.0.1/32", dialled.Resolved)
	}
	if dialled.LookupTime <= 0 || dialled.ConnectTime <= 0 {
		t.Errorf("lookup took %s and connecting %s, want both measured", dialled.LookupTime, dialled.ConnectTime)
	}
	// Resolved once: the dial went by address, so the server, whose next
	// answer is 10.0.0.1, was asked once.
	if n := srv.count("svc.test. TypeA"); n != 1 {
		t.Errorf("svc.test asked %d times for one dial, want 1", n)
	}
}

// TestDialRebinding: the first lookup of a name answers a public address,
// the second loopback. Each decision stands on the answer it checked.
func TestDialRebinding(t *testing.T) {
	ln := listenCounting(t)
	d, srv := newTestDialer(t, map[string]*dnsName{"rebind.test": {addrs: []string{"93.184.215.14"}, then: []string{"127.0.0.1"}, ttl: 0}})
	h, _ := CanonicalHost("rebind.test")
	first, err := d.Resolve(context.Background(), h, ln.port, nil)
	if err != nil || len(first.Resolved) != 1 || first.Resolved[0].Addr.String() != "93.184.215.14" || !first.Resolved[0].Allowed {
		t.Fatalf("first check: %+v, %v; want 93.184.215.14 public", first, err)
	}
	conn, second, err := d.Dial(context.Background(), h, ln.port, nil)
	if conn != nil {
		conn.Close()
	}
	if !errors.Is(err, ErrRefused) || second.Addr.IsValid() || len(second.Resolved) != 1 || second.Resolved[0].Class != ClassLoopback {
		t.Errorf("second lookup's dial: %+v, %v; want loopback refused and nothing dialled", second, err)
	}
	if n := srv.count("rebind.test. TypeA"); n != 2 {
		t.Errorf("rebind.test asked %d times for two decisions, want 2", n)
	}
	ln.expectOnly(t, d)
}

func TestDialMixedAnswersRefused(t *testing.T) {
	ln := listenCounting(t)
	d, _ := newTestDialer(t, map[string]*dnsName{"mixed.test": {addrs: []string{"127.0.0.1", "10.0.0.1"}, ttl: 60}})
	h, _ := CanonicalHost("mixed.test")
	_, dialled, err := d.Dial(context.Background(), h, ln.port, prefixes("127.0.0.1/32"))
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "private address in 10.0.0.0/8") {
		t.Errorf("Dial(mixed.test) error %v, want the private address refused", err)
	}
	want := []Verdict{
		{netip.MustParseAddr("127.0.0.1"), ClassLoopback, true, "loopback allowed by 127.0.0.1/32"},
		{netip.MustParseAddr("10.0.0.1"), ClassPrivate, false, "private address in 10.0.0.0/8"},
	}
	if len(dialled.Resolved) != 2 || dialled.Resolved[0] != want[0] || dialled.Resolved[1] != want[1] {
		t.Errorf("verdicts %+v, want %+v", dialled.Resolved, want)
	}
	for i, text := range []string{"127.0.0.1 allowed: loopback allowed by 127.0.0.1/32", "10.0.0.1 refused: private address in 10.0.0.0/8"} {
		if got := want[i].String(); got != text {
			t.Errorf("Verdict.String() = %q, want %q", got, text)
		}
	}
	ln.expectOnly(t, d)
}

func TestDialOwnListenerRefused(t *testing.T) {
	ln := listenCounting(t)
	own := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ln.port)
	d, _ := newTestDialer(t, map[string]*dnsName{"self.test": {addrs: []string{"127.0.0.1"}, ttl: 60}}, own)
	for _, s := range []string{"self.test", "127.0.0.1", "127.1", "0.0.0.0"} {
		h, err := CanonicalHost(s)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = d.Dial(context.Background(), h, ln.port, prefixes("127.0.0.0/8", "0.0.0.0/32"))
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "the gateway's own listener "+own.String()) {
			t.Errorf("Dial(%s:%d) error %v, want the gateway's own listener refused", s, ln.port, err)
		}
	}
	if got := ln.accepted(); len(got) != 0 {
		t.Errorf("the gateway's own listener accepted %v, want none", got)
	}
}

func TestDialErrors(t *testing.T) {
	ln := listenCounting(t)
	d, _ := newTestDialer(t, map[string]*dnsName{"svc.test": {addrs: []string{"127.0.0.1"}, ttl: 60}})
	missing, _ := CanonicalHost("missing.test")
	_, dialled, err := d.Dial(context.Background(), missing, ln.port, prefixes("127.0.0.1/32"))
	if !errors.Is(err, ErrNXDomain) || len(dialled.Resolved) != 0 {
		t.Errorf("Dial(missing.test) = %+v, %v; want NXDOMAIN", dialled, err)
	}
	if _, _, err := d.Dial(context.Background(), Host{}, ln.port, nil); !errors.Is(err, ErrInvalidHost) {
		t.Errorf("Dial(zero Host) error %v, want ErrInvalidHost", err)
	}
	// A connect timeout applies even when the caller's context has none.
	hurried := *d
	hurried.Timeout = time.Nanosecond
	svc, _ := CanonicalHost("svc.test")
	if _, _, err := hurried.Dial(context.Background(), svc, ln.port, prefixes("127.0.0.1/32")); !errors.Is(err, ErrConnectTimeout) {
		t.Errorf("Dial with a 1ns connect timeout: %v, want ErrConnectTimeout", err)
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(closed.Addr().(*net.TCPAddr).Port)
	closed.Close()
	_, dialled, err = d.Dial(context.Background(), svc, port, prefixes("127.0.0.1/32"))
	if err == nil || errors.Is(err, ErrRefused) || dialled.Addr.IsValid() || len(dialled.Resolved) != 1 {
		t.Errorf("Dial to a closed port = %+v, %v; want a connect error with the verdict and no address", dialled, err)
	}
}

// BenchmarkDial compares a guarded dial of a cached name with a plain
// net.Dialer to the same loopback listener, in one run.
func BenchmarkDial(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	target := ln.Addr().(*net.TCPAddr).AddrPort()
	srv := startDNS(b, map[string]*dnsName{"svc.test": {addrs: []string{"127.0.0.1"}, ttl: 3600}})
	r, err := NewResolver(ResolverConfig{Server: srv.addr})
	if err != nil {
		b.Fatal(err)
	}
	d := &Dialer{Resolver: r, Guard: NewGuard(nil)}
	host, _ := CanonicalHost("svc.test")
	allowed := prefixes("127.0.0.1/32")
	b.Run("direct", func(b *testing.B) {
		var nd net.Dialer
		for b.Loop() {
			c, err := nd.DialContext(context.Background(), "tcp", target.String())
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	b.Run("guarded", func(b *testing.B) {
		for b.Loop() {
			c, _, err := d.Dial(context.Background(), host, target.Port(), allowed)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
}
