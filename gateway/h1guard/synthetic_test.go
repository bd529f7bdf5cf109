package h1guard

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"testing"
)

// startPlain serves the test handler with no guard, to see what net/http
// itself does with given bytes.
func startPlain(t *testing.T) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(ts.serveHTTP), ErrorLog: discardLog}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ts
}

// TestHeadReject sends net/http every prefix of some valid request heads
// followed by headReject, as the guard does when it finds a violation at
// that point: each must get 400 without reaching the handler.
func TestHeadReject(t *testing.T) {
	heads := []struct {
		name, before, head string
	}{
		{"get", "", "GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-A: a b\r\nX-Empty:\r\n\r\n"},
		{"framing fields", "", "POST / HTTP/1.0\r\nContent-Length: 12\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{"after post", postCL, "\r\nPUT * HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"preface", "", "PRI * HTTP/2.0\r\n\r"},
	}
	ts := startPlain(t)
	for _, h := range heads {
		t.Run(h.name, func(t *testing.T) {
			before, _ := exchange(t, ts.addr, h.before)
			for n := range len(h.head) {
				was := ts.complete.Load()
				codes, _ := exchange(t, ts.addr, h.before+h.head[:n]+headReject)
				if want := append(slices.Clone(before), 400); !slices.Equal(codes, want) {
					t.Errorf("after %q: got statuses %v, want %v", h.head[:n], codes, want)
				}
				if got, want := ts.complete.Load()-was, int64(len(before)); got != want {
					t.Errorf("after %q: got %d requests read in full by the handler, want %d", h.head[:n], got, want)
				}
			}
		})
	}
}

// TestBodyReject does the same for bodyReject in a chunked body: at every
// point outside chunk data, the handler's body read must fail.
func TestBodyReject(t *testing.T) {
	body := "4;a=\"b\\\"\" ;c\r\nWiki\r\n0;x=y\r\nX-Trailer: t\r\nY: u\r\n\r\n"
	ts := startPlain(t)
	s := newScanner(DefaultMaxHeaderBytes)
	s.scan([]byte(chunked))
	for n := range len(body) {
		if n > 0 {
			s.scan([]byte(body[n-1 : n]))
		}
		if s.state == stChunkData {
			continue // data is skipped by count: no violation there
		}
		t.Run(fmt.Sprintf("after %q", body[:n]), func(t *testing.T) {
			codes, _ := exchange(t, ts.addr, chunked+body[:n]+bodyReject)
			if want := []int{422}; !slices.Equal(codes, want) {
				t.Errorf("got statuses %v, want %v", codes, want)
			}
		})
	}
	if got := ts.complete.Load(); got != 0 {
		t.Errorf("got %d requests read in full by the handler, want 0", got)
	}
}

// TestGoAccepts shows net/http answering 200 to the requests the guard
// exists for, so that the guard's tests are not testing net/http.
func TestGoAccepts(t *testing.T) {
	tests := []struct{ name, req string }{
		{"bare LF", "GET / HTTP/1.1\nHost: x\n\n"},
		{"obs fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n"},
		{"content length and chunked", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"chunked on http 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{"lower case method", "get / HTTP/1.1\r\nHost: x\r\n\r\n"},
	}
	ts := startPlain(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			codes, _ := exchange(t, ts.addr, tc.req)
			if want := []int{200}; !slices.Equal(codes, want) {
				t.Errorf("got statuses %v, want %v", codes, want)
			}
		})
	}
}
