package loopbacktest

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// TestRefusedAddrStaysRefused dials the address after new listeners took
// ports of their own: none of them got it, and the dial is refused.
func TestRefusedAddrStaysRefused(t *testing.T) {
	addr := RefusedAddr(t)
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if ln.Addr().String() == addr {
			t.Fatalf("a listener got %s", addr)
		}
		ln.Close()
	}
	_, err := net.Dial("tcp", addr)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v, want connection refused", err)
	}
}
