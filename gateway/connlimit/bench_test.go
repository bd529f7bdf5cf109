package connlimit_test

import (
	"net"
	"testing"

	"github.com/portcullis-gw/portcullis/gateway/connlimit"
)

// BenchmarkAcceptClose measures a connection's accept and close through the
// limiter against the bare listener; the difference is the limiter's cost.
//
//	go test -run '^$' -bench AcceptClose -benchmem ./gateway/connlimit/
func BenchmarkAcceptClose(b *testing.B) {
	for _, c := range []struct {
		name string
		wrap func(net.Listener) net.Listener
	}{
		{"bare", func(ln net.Listener) net.Listener { return ln }},
		{"limited", func(ln net.Listener) net.Listener {
			return connlimit.Listen(ln, connlimit.Options{MaxConns: 1000, MaxConnsPerIP: 100})
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			ln := c.wrap(inner)
			defer ln.Close()
			for b.Loop() {
				// The kernel completes the handshake into the backlog, so
				// one goroutine can dial and then accept.
				client, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				server, err := ln.Accept()
				if err != nil {
					b.Fatal(err)
				}
				// A reset leaves no TIME_WAIT behind to exhaust the
				// ephemeral ports over a long run.
				client.(*net.TCPConn).SetLinger(0)
				client.Close()
				server.Close()
			}
		})
	}
}
