package h1guard

import (
	"io"
	"net"
	"strings"
	"testing"
)

// benchRequest is a keep-alive POST with a 1 KiB body and the fields a
// browser or SDK sends.
var benchRequest = []byte("POST /api/items?id=42 HTTP/1.1\r\nHost: shop.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) bench/1.0\r\nAccept: */*\r\nAccept-Encoding: gzip, br\r\n" +
	"Content-Type: application/octet-stream\r\nX-Request-Id: 9f2c1a7e-5b1d-4c59-8e0a-3f7d2b6c4e11\r\n" +
	"Content-Length: 1024\r\n\r\n" + strings.Repeat("b", 1024))

// BenchmarkGuard measures one request per op: the state machine alone, then
// a loopback TCP stream read with and without the guard.
func BenchmarkGuard(b *testing.B) {
	b.Run("scan", func(b *testing.B) {
		s := newScanner(DefaultMaxHeaderBytes)
		b.SetBytes(int64(len(benchRequest)))
		b.ReportAllocs()
		for b.Loop() {
			if _, k := s.scan(benchRequest); k != 0 {
				b.Fatal(k)
			}
		}
	})
	b.Run("tcp/raw", func(b *testing.B) { benchTCP(b, false) })
	b.Run("tcp/guarded", func(b *testing.B) { benchTCP(b, true) })
}

func benchTCP(b *testing.B, guarded bool) {
	server, client := tcpPair(b)
	defer client.Close()
	var r net.Conn = server
	if guarded {
		r = Conn(server, Options{})
	}
	defer r.Close()
	go func() {
		stream := []byte(strings.Repeat(string(benchRequest), 64))
		for {
			if _, err := client.Write(stream); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 4096) // net/http's read buffer
	b.SetBytes(int64(len(benchRequest)))
	b.ReportAllocs()
	for b.Loop() {
		for left := len(benchRequest); left > 0; {
			n, err := r.Read(buf[:min(len(buf), left)])
			if err != nil {
				b.Fatal(err)
			}
			left -= n
		}
	}
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(tb testing.TB) (server, client net.Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	if server, err = ln.Accept(); err != nil {
		tb.Fatal(err)
	}
	return server, client
}

// TestReadAllocs checks that guarded reads of well-formed requests allocate
// nothing.
func TestReadAllocs(t *testing.T) {
	server, client := tcpPair(t)
	defer client.Close()
	g := Conn(server, Options{})
	defer g.Close()
	const runs = 100
	go func() {
		for range runs + 1 {
			client.Write(benchRequest)
		}
	}()
	buf := make([]byte, len(benchRequest))
	allocs := testing.AllocsPerRun(runs, func() {
		if _, err := io.ReadFull(g, buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocations a request, want 0", allocs)
	}
}
