package h1guard

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// discardLog keeps net/http's complaints about the malformed requests these
// tests send out of the test output.
var discardLog = log.New(io.Discard, "", 0)

// testServer is an http.Server on 127.0.0.1:0 that counts the requests it
// read in full and the violations its guard reported.
type testServer struct {
	addr     string
	complete atomic.Int64
	mu       sync.Mutex
	kinds    []Kind
}

// startServer serves the test handler behind Listen; setup, when not nil,
// adjusts the server before it starts.
func startServer(t *testing.T, opts Options, setup func(*http.Server)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: ln.Addr().String()}
	opts.OnViolation = ts.record
	srv := &http.Server{Handler: http.HandlerFunc(ts.serveHTTP), ErrorLog: discardLog, ConnContext: withConn}
	if setup != nil {
		setup(srv)
	}
	go srv.Serve(Listen(ln, opts))
	t.Cleanup(func() { srv.Close() })
	return ts
}

type connKey struct{}

// withConn is an http.Server.ConnContext that keeps the connection for
// Violation.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// serveHTTP answers 200 with the body and trailer once it has read the
// body, 422 with the guard's verdict when the body read fails, and turns an Upgrade: echo request
// or a CONNECT into a raw echo of the connection.
func (ts *testServer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect || r.Header.Get("Upgrade") == "echo" {
		echo(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		c, _ := r.Context().Value(connKey{}).(net.Conn)
		http.Error(w, Violation(c).String(), http.StatusUnprocessableEntity)
		return
	}
	ts.complete.Add(1)
	fmt.Fprintf(w, "body=%q trailer=%q", body, r.Trailer.Get("X-Trailer"))
}

func echo(w http.ResponseWriter, r *http.Request) {
	c, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer c.Close()
	if r.Method == http.MethodConnect {
		rw.WriteString("HTTP/1.1 200 OK\r\n\r\n")
	} else {
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	}
	rw.Flush()
	io.Copy(c, rw)
}

// record is an Options.OnViolation.
func (ts *testServer) record(kind Kind, _ net.Addr) {
	ts.mu.Lock()
	ts.kinds = append(ts.kinds, kind)
	ts.mu.Unlock()
}

// violations returns the kinds reported so far.
func (ts *testServer) violations() []Kind {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.kinds)
}

// exchange writes each piece with its own Write, closes the writing side
// and returns the status of every response read back and the last body.
func exchange(t *testing.T, addr string, pieces ...string) ([]int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A deadline only so that a broken guard fails the test instead of
	// hanging it.
	c.SetDeadline(time.Now().Add(10 * time.Second))
	for _, p := range pieces {
		if _, err := io.WriteString(c, p); err != nil {
			break // the server may close before all is sent
		}
	}
	c.(*net.TCPConn).CloseWrite()
	return readResponses(t, bufio.NewReader(c))
}

func readResponses(t *testing.T, br *bufio.Reader) ([]int, string) {
	t.Helper()
	var codes []int
	var last string
	for {
		if _, err := br.Peek(1); errors.Is(err, io.EOF) {
			return codes, last
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("read response %d: %v", len(codes)+1, err)
		}
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("read response %d body: %v", len(codes)+1, err)
		}
		codes = append(codes, res.StatusCode)
		last = string(b)
	}
}

// bytewise splits s into one-byte pieces.
func bytewise(s string) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[i : i+1]
	}
	return out
}
