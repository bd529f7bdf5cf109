package egress

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a.(*net.TCPConn), b.(*net.TCPConn)
}

type passthroughConn struct {
	net.Conn
	raw net.Conn
}

func (c passthroughConn) Passthrough() net.Conn { return c.raw }

type netConnConn struct{ net.Conn }

func (c netConnConn) NetConn() net.Conn { return c.Conn }

func TestRawTCP(t *testing.T) {
	tc, _ := tcpPair(t)
	tlsc := tls.Client(tc, &tls.Config{})
	for _, tt := range []struct {
		name string
		c    io.Reader
		want *net.TCPConn
	}{
		{"tcp", tc, tc},
		{"buffered", &bufferedConn{Conn: tc}, tc},
		{"guard stepped aside", passthroughConn{Conn: tc, raw: tc}, tc},
		{"guard still checking", passthroughConn{Conn: tc}, nil},
		{"limits over guard", netConnConn{passthroughConn{Conn: tc, raw: netConnConn{tc}}}, tc},
		{"tls", tlsc, nil},
		{"guard over tls", passthroughConn{Conn: tlsc, raw: tlsc}, nil},
		{"limits over tls", netConnConn{tlsc}, nil},
		{"http2 stream", &h2Stream{}, nil},
		{"pipe", func() net.Conn { a, _ := net.Pipe(); return a }(), nil},
	} {
		if got := rawTCP(tt.c); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestSpliceBufferedBytesFirst carries what the server read past the
// CONNECT before what the client sends next, and counts both.
func TestSpliceBufferedBytesFirst(t *testing.T) {
	cl, srv := tcpPair(t)
	up, far := tcpPair(t)
	io.WriteString(cl, "abcdef")
	br := bufio.NewReader(srv)
	if _, err := br.Peek(6); err != nil {
		t.Fatal(err)
	}
	type result struct {
		why      string
		up, down int64
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.why = (&Proxy{}).splice(context.Background(), &bufferedConn{Conn: srv, r: br}, up, time.Minute, time.Minute, &r.up, &r.down)
		done <- r
	}()
	io.WriteString(cl, "ghij")
	cl.CloseWrite()
	far.SetDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(far)
	if err != nil || string(got) != "abcdefghij" {
		t.Fatalf("destination got %q, %v; want abcdefghij", got, err)
	}
	io.WriteString(far, "xyz")
	far.Close()
	cl.SetDeadline(time.Now().Add(10 * time.Second))
	if back, err := io.ReadAll(cl); err != nil || string(back) != "xyz" {
		t.Fatalf("client got %q, %v; want xyz", back, err)
	}
	r := <-done
	if r.up != 10 || r.down != 3 || r.why != "downstream_closed" {
		t.Errorf("got %+v, want 10 up, 3 down, downstream_closed", r)
	}
}

// TestSpliceTrickleIsNotIdle keeps a spliced tunnel busy with a byte at a
// time, well apart but each within the idle timeout: the copy's
// checkpoints see them, so the tunnel lives until the bytes stop.
func TestSpliceTrickleIsNotIdle(t *testing.T) {
	cl, srv := tcpPair(t)
	up, far := tcpPair(t)
	const idle = 300 * time.Millisecond
	done := make(chan string, 1)
	var upN, downN int64
	go func() { done <- (&Proxy{}).splice(context.Background(), srv, up, idle, time.Minute, &upN, &downN) }()
	go io.Copy(io.Discard, far)
	start := time.Now()
	for range 20 {
		if _, err := io.WriteString(cl, "x"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(idle / 6)
		select {
		case why := <-done:
			t.Fatalf("the tunnel ended (%s) while bytes flowed", why)
		default:
		}
	}
	stopped := time.Since(start)
	select {
	case why := <-done:
		if why != "idle_timeout" || upN != 20 {
			t.Errorf("got %s with %d bytes up, want idle_timeout with 20", why, upN)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the tunnel outlived its idle timeout by far (bytes stopped at %v)", stopped)
	}
}
