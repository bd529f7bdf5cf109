package h1guard

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

const (
	getX    = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	postCL  = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
	chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
)

func TestGuardServer(t *testing.T) {
	tests := []struct {
		name     string
		pieces   []string
		codes    []int
		complete int64
		kinds    []Kind
		body     string // of the last response, when set
	}{
		{name: "get", pieces: []string{getX}, codes: []int{200}, complete: 1},
		{name: "pipelined", pieces: []string{getX + postCL + getX}, codes: []int{200, 200, 200}, complete: 3},
		{name: "content length body", pieces: []string{postCL}, codes: []int{200}, complete: 1, body: `body="hello" trailer=""`},
		{name: "chunked with extensions and trailer", pieces: []string{chunked + "4;a=b;c=\"q\\\"\"\r\nWiki\r\n5;x\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n"},
			codes: []int{200}, complete: 1, body: `body="Wikipedia" trailer="t"`},
		{name: "one byte at a time", pieces: bytewise(getX + postCL + chunked + "1\r\na\r\n0\r\n\r\n"), codes: []int{200, 200, 200}, complete: 3},
		{name: "http 1.0", pieces: []string{"GET / HTTP/1.0\r\n\r\n"}, codes: []int{200}, complete: 1},
		{name: "empty line after post", pieces: []string{postCL + "\r\n" + getX}, codes: []int{200, 200}, complete: 2},

		{name: "bare LF", pieces: []string{"GET / HTTP/1.1\nHost: x\n\n"}, codes: []int{400}, kinds: []Kind{BareLF}},
		{name: "obs fold", pieces: []string{"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n"}, codes: []int{400}, kinds: []Kind{ObsFold}},
		{name: "content length and chunked", pieces: []string{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
			codes: []int{400}, kinds: []Kind{ContentLengthAndTransferEncoding}},
		{name: "chunked on http 1.0", pieces: []string{"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
			codes: []int{400}, kinds: []Kind{TransferEncoding}},
		{name: "gzip coding", pieces: []string{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"}, codes: []int{400}, kinds: []Kind{TransferEncoding}},
		{name: "lower case method", pieces: []string{"get / HTTP/1.1\r\nHost: x\r\n\r\n"}, codes: []int{400}, kinds: []Kind{RequestLine}},
		{name: "http 2 version", pieces: []string{"GET / HTTP/2.0\r\nHost: x\r\n\r\n"}, codes: []int{400}, kinds: []Kind{RequestLine}},
		{name: "bare CR", pieces: []string{"GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n"}, codes: []int{400}, kinds: []Kind{BareCR}},
		{name: "NUL in value", pieces: []string{"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n"}, codes: []int{400}, kinds: []Kind{HeaderValue}},
		{name: "space before colon", pieces: []string{"GET / HTTP/1.1\r\nHost : x\r\n\r\n"}, codes: []int{400}, kinds: []Kind{HeaderName}},
		{name: "duplicate host", pieces: []string{"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"}, codes: []int{400}, kinds: []Kind{DuplicateHost}},
		{name: "equal content lengths", pieces: []string{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na"}, codes: []int{400}, kinds: []Kind{ContentLength}},
		{name: "signed content length", pieces: []string{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\na"}, codes: []int{400}, kinds: []Kind{ContentLength}},
		{name: "head too large", pieces: []string{"GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 70<<10) + "\r\n\r\n"},
			codes: []int{431}, kinds: []Kind{HeadTooLarge}},
		{name: "good then bad", pieces: []string{getX + "GET / HTTP/1.1\nHost: x\n\n"}, codes: []int{200, 400}, complete: 1, kinds: []Kind{BareLF}},
		{name: "good then bad one byte at a time", pieces: bytewise(postCL + "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n" + getX),
			codes: []int{200, 400}, complete: 1, kinds: []Kind{ObsFold}},
		{name: "refused upgrade", pieces: []string{"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" + "GET / HTTP/1.1\nHost: x\n\n"},
			codes: []int{200, 400}, complete: 1, kinds: []Kind{BareLF}},
		{name: "chunk size bare LF", pieces: []string{chunked + "3\nabc\r\n0\r\n\r\n"}, codes: []int{422}, kinds: []Kind{BareLF}, body: "bare_lf\n"},
		{name: "chunk extension after semicolon", pieces: []string{chunked + "3;a\x01\r\nabc\r\n0\r\n\r\n"}, codes: []int{422}, kinds: []Kind{Chunk}, body: "chunk\n"},
		{name: "no CRLF after chunk data", pieces: []string{chunked + "3\r\nabcX\r\n0\r\n\r\n"}, codes: []int{422}, kinds: []Kind{Chunk}, body: "chunk\n"},
		{name: "trailer obs fold", pieces: []string{chunked + "1\r\na\r\n0\r\nX-Trailer: a\r\n b\r\n\r\n"}, codes: []int{422}, kinds: []Kind{ObsFold}, body: "obs_fold\n"},
		{name: "good then bad chunk", pieces: []string{getX + chunked + "zz\r\n"}, codes: []int{200, 422}, complete: 1, kinds: []Kind{Chunk}, body: "chunk\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, Options{}, nil)
			codes, body := exchange(t, ts.addr, tc.pieces...)
			if !slices.Equal(codes, tc.codes) {
				t.Errorf("got statuses %v, want %v", codes, tc.codes)
			}
			if got := ts.complete.Load(); got != tc.complete {
				t.Errorf("got %d requests read in full by the handler, want %d", got, tc.complete)
			}
			if got := ts.violations(); !slices.Equal(got, tc.kinds) {
				t.Errorf("got violations %v, want %v", got, tc.kinds)
			}
			if tc.body != "" && body != tc.body {
				t.Errorf("got body %q, want %q", body, tc.body)
			}
		})
	}
}

// TestGuardHeadLimit checks the answer to an oversized head against the
// server's own MaxHeaderBytes (431 up to Go's default limit, 400 beyond),
// and with the filler starting anywhere in the head.
func TestGuardHeadLimit(t *testing.T) {
	req := "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 100<<10) + "\r\n\r\n"
	tests := []struct {
		name   string
		guard  int
		server int
		before string // a request sent first
		codes  []int
	}{
		{"same limits", 4096, 4096, getX, []int{200, 431}},
		{"server default", 4096, 0, getX, []int{200, 431}},
		{"guard default", 0, 0, getX, []int{200, 431}},
		{"server above default", 4096, 4 << 20, getX, []int{200, 400}},
		{"cut in the request line", 5, 4096, "", []int{431}},
		{"cut after a CR", 15, 4096, "", []int{431}},
		{"cut at a line start", 16, 4096, "", []int{431}},
		{"cut in a field name", 18, 4096, "", []int{431}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, Options{MaxHeaderBytes: tc.guard}, func(s *http.Server) { s.MaxHeaderBytes = tc.server })
			codes, _ := exchange(t, ts.addr, tc.before+req)
			if !slices.Equal(codes, tc.codes) {
				t.Errorf("got statuses %v, want %v", codes, tc.codes)
			}
			if got, want := ts.violations(), []Kind{HeadTooLarge}; !slices.Equal(got, want) {
				t.Errorf("got violations %v, want %v", got, want)
			}
		})
	}
}
