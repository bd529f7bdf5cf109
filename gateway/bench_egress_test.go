package gateway

import (
	"io"
	"net"
	"net/http"
	"testing"
)

// BenchmarkEgressThroughput pushes bytes one way to a loopback sink,
// directly and through a CONNECT tunnel of the forward proxy, in the same
// run, so that the two compare: the ratio of their MB/s is what a tunnel
// costs.
//
//	go test ./gateway -run '^$' -bench EgressThroughput -benchtime 2000x
func BenchmarkEgressThroughput(b *testing.B) {
	sink := newSinkServer(b)
	d := newLoopDialer()
	d.route("sink.example.com:9000", sink.Addr().String())
	tg := startProxy(b, `
egress:
  rules: [{ name: sink, to: { hosts: [sink.example.com], ports: [9000] } }]
`, d)
	buf := make([]byte, 64<<10)
	run := func(b *testing.B, open func() (net.Conn, io.Reader)) {
		b.SetBytes(int64(len(buf)))
		c, r := open()
		defer c.Close()
		b.ResetTimer()
		for range b.N {
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		c.(*net.TCPConn).CloseWrite()
		// The sink answers one byte once it has read everything.
		if _, err := io.ReadFull(r, make([]byte, 1)); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("direct", func(b *testing.B) {
		run(b, func() (net.Conn, io.Reader) {
			c, err := net.Dial("tcp", sink.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			return c, c
		})
	})
	b.Run("tunnel", func(b *testing.B) {
		run(b, func() (net.Conn, io.Reader) {
			c, br, resp := connectH1(b, tg.Addr("egress").String(), "sink.example.com:9000", "bench")
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("got %d, want 200", resp.StatusCode)
			}
			return c, br
		})
	})
}

// newSinkServer reads each connection to its end and answers one byte.
func newSinkServer(tb testing.TB) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
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
				io.Copy(io.Discard, c)
				c.Write([]byte{'k'})
			}()
		}
	}()
	return ln
}
