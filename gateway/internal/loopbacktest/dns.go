package loopbacktest

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// DNS is a DNS server on a loopback UDP port whose answers the test sets,
// for tests of name resolution that must not ask the machine's resolver:
// its Resolver sends every query to this server alone. A name the test
// has not set gets NXDOMAIN.
type DNS struct {
	addr    string
	mu      sync.Mutex
	names   map[string]dnsAnswer
	queries atomic.Int64
}

// dnsAnswer is a name's answer: its addresses, or a failure code.
type dnsAnswer struct {
	rcode dnsmessage.RCode
	ips   []netip.Addr
}

// NewDNS starts a server that stops when the test ends.
func NewDNS(t testing.TB) *DNS {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &DNS{addr: conn.LocalAddr().String(), names: map[string]dnsAnswer{}}
	done := make(chan struct{})
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	go func() {
		defer close(done)
		d.serve(conn)
	}()
	return d
}

// Set makes name resolve to ips (IPv4 and IPv6 literals).
func (d *DNS) Set(name string, ips ...string) {
	a := dnsAnswer{rcode: dnsmessage.RCodeSuccess}
	for _, ip := range ips {
		a.ips = append(a.ips, netip.MustParseAddr(ip))
	}
	d.set(name, a)
}

// Fail makes lookups of name fail with SERVFAIL, as a broken upstream
// server answers.
func (d *DNS) Fail(name string) { d.set(name, dnsAnswer{rcode: dnsmessage.RCodeServerFailure}) }

// Remove makes name not exist again: NXDOMAIN.
func (d *DNS) Remove(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.names, canonicalName(name))
}

func (d *DNS) set(name string, a dnsAnswer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.names[canonicalName(name)] = a
}

// Queries returns how many queries the server has answered.
func (d *DNS) Queries() int64 { return d.queries.Load() }

// Resolver returns a resolver that asks this server and no other.
func (d *DNS) Resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dialer net.Dialer
			return dialer.DialContext(ctx, "udp", d.addr)
		},
	}
}

func canonicalName(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, ".")) + "."
}

// serve answers queries until conn is closed.
func (d *DNS) serve(conn net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if reply, ok := d.answer(buf[:n]); ok {
			d.queries.Add(1)
			conn.WriteTo(reply, from)
		}
	}
}

// answer builds the reply to one query; ok is false for a packet that is
// no query.
func (d *DNS) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	d.mu.Lock()
	a, found := d.names[strings.ToLower(q.Name.String())]
	d.mu.Unlock()
	if !found {
		a.rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{
		ID: h.ID, Response: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true, RCode: a.rcode,
	})
	b.EnableCompression()
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 1}
	for _, ip := range a.ips {
		switch {
		case q.Type == dnsmessage.TypeA && ip.Is4():
			b.AResource(rh, dnsmessage.AResource{A: ip.As4()})
		case q.Type == dnsmessage.TypeAAAA && ip.Is6():
			b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: ip.As16()})
		}
	}
	reply, err := b.Finish()
	return reply, err == nil
}
