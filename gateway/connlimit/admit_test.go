package connlimit_test

import (
	"net"
	"testing"

	"github.com/portcullis-gw/portcullis/gateway/connlimit"
)

// TestAdmitSharesLimits checks that connections admitted without Accept
// (HTTP/3's) count against the same limits as accepted ones, per client
// address, and give their place back once.
func TestAdmitSharesLimits(t *testing.T) {
	const a, b = "127.0.0.1", "127.0.0.2"
	s := serve(t, connlimit.Options{MaxConns: 5, MaxConnsPerIP: 2})
	udp := func(ip string) net.Addr { return &net.UDPAddr{IP: net.ParseIP(ip), Port: 4433} }
	if !accepted(t, s.ln, a) {
		t.Fatal("first TCP connection refused")
	}
	release, reason := s.ln.Admit(udp(a))
	if reason != "" {
		t.Fatalf("first QUIC connection from %s: refused for %s", a, reason)
	}
	if !s.ln.Crowded(udp(a)) {
		t.Errorf("Crowded(%s) with 2 of 2: got false, want true", a)
	}
	if s.ln.Crowded(udp(b)) {
		t.Errorf("Crowded(%s) with 2 of 5 on the listener, 0 of 2 its own: got true, want false", b)
	}
	if _, reason := s.ln.Admit(udp(a)); reason != connlimit.ClientLimit {
		t.Errorf("third connection from %s: got %q, want %s", a, reason, connlimit.ClientLimit)
	}
	if got := <-s.rejected; got != connlimit.ClientLimit {
		t.Errorf("OnReject: got %q, want %s", got, connlimit.ClientLimit)
	}
	if accepted(t, s.ln, a) {
		t.Errorf("TCP connection from %s over its limit accepted", a)
	}
	<-s.rejected
	release()
	release() // twice gives back one place only
	if s.ln.Conns() != 1 {
		t.Errorf("open after release: got %d, want 1", s.ln.Conns())
	}
	var held []func()
	for i, from := range []string{a, b, b, "127.0.0.3"} {
		r, reason := s.ln.Admit(udp(from))
		if reason != "" {
			t.Fatalf("connection %d after release: refused for %s", i, reason)
		}
		held = append(held, r)
	}
	if _, reason := s.ln.Admit(udp("127.0.0.4")); reason != connlimit.ListenerLimit {
		t.Errorf("sixth connection: got %q, want %s", reason, connlimit.ListenerLimit)
	}
	if !s.ln.Crowded(udp("127.0.0.4")) {
		t.Error("Crowded with 5 of 5 on the listener: got false, want true")
	}
	for _, r := range held {
		r()
	}
	if s.ln.Conns() != 1 {
		t.Errorf("open after releasing all: got %d, want 1", s.ln.Conns())
	}
}
