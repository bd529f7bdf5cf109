package connlimit

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestConcurrent opens and closes connections from many goroutines at once
// under -race: the server never holds more than the limits allow, each
// connection's place comes back however often it is closed, and the
// per-client table empties.
func TestConcurrent(t *testing.T) {
	const maxConns, perIP, clients, each = 8, 3, 4, 25
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var rejected atomic.Int64
	ln := Listen(inner, Options{MaxConns: maxConns, MaxConnsPerIP: perIP,
		OnReject: func(string, net.Addr) { rejected.Add(1) }})
	defer ln.Close()

	var live, peak atomic.Int64
	var handlers sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := live.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			handlers.Go(func() {
				c.Write([]byte{1})
				io.Copy(io.Discard, c) // until the client closes
				live.Add(-1)
				c.Close()
				c.Close()
			})
		}
	}()

	var admitted atomic.Int64
	var dialers sync.WaitGroup
	for g := range clients * 4 {
		from := net.IPv4(127, 0, 0, byte(1+g%clients))
		dialers.Go(func() {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: from}}
			for range each {
				c, err := d.Dial("tcp", ln.Addr().String())
				if errors.Is(err, syscall.ECONNRESET) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := c.Read(make([]byte, 1)); err == nil {
					admitted.Add(1)
				}
				c.Close()
			}
		})
	}
	dialers.Wait()
	handlers.Wait()

	if got := peak.Load(); got > maxConns {
		t.Errorf("got %d connections open at once, want at most %d", got, maxConns)
	}
	if got, want := admitted.Load()+rejected.Load(), int64(clients*4*each); got != want {
		t.Errorf("got %d admitted and refused, want %d", got, want)
	}
	if admitted.Load() == 0 {
		t.Error("got no connection admitted, want some")
	}
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if ln.open != 0 || len(ln.perClient) != 0 {
		t.Errorf("got %d open and %d clients after every close, want 0 and 0", ln.open, len(ln.perClient))
	}
}

func TestClientAddr(t *testing.T) {
	tests := []struct {
		name string
		addr net.Addr
		want string // "" for none
	}{
		{"tcp v4", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}, "192.0.2.1"},
		{"tcp mapped", &net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1"), Port: 1}, "192.0.2.1"},
		{"tcp v6", &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1}, "2001:db8::1"},
		{"udp", &net.UDPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 1}, "192.0.2.2"},
		{"unix", &net.UnixAddr{Name: "/run/gw.sock", Net: "unix"}, ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clientAddr(tt.addr)
			if s := got.String(); tt.want == "" && got.IsValid() || tt.want != "" && s != tt.want {
				t.Errorf("got %v, want %q", got, tt.want)
			}
		})
	}
}
