package h1guard

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// fuzzMax is a small head limit, so that the fuzzer reaches it.
const fuzzMax = 300

func FuzzGuard(f *testing.F) {
	for _, tc := range scanCases {
		f.Add([]byte(tc.ok + tc.rest))
	}
	f.Add([]byte(getX + "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", fuzzMax)))
	f.Add([]byte(chunked + "1\r\na\r\n0\r\nX: " + strings.Repeat("a", fuzzMax)))
	f.Add([]byte("\x05\x01\x80\x03\x00\x02\x01\x09\x04\x02\x01\x00\x11\x01\x02"))
	f.Fuzz(func(t *testing.T, data []byte) {
		piece := 1
		if len(data) > 0 {
			piece += int(data[0]) % 64
		}
		checkStream(t, data, piece)
		checkValid(t, data, piece)
	})
}

// checkStream sends data through a guarded connection and checks what came
// out: data up to the offending byte, then the synthetic bytes for the
// kind, and that no request net/http would accept from it is malformed.
func checkStream(t *testing.T, data []byte, piece int) {
	out, filled, kinds := pipeGuard(t, data, piece)
	s := newScanner(fuzzMax)
	off, kind := s.scan(data)
	if kind == 0 {
		if len(kinds) != 0 || !bytes.Equal(out, data) {
			t.Fatalf("clean stream: got %v and %q, want no violation and the input", kinds, out)
		}
	} else {
		if len(kinds) != 1 || kinds[0] != kind {
			t.Fatalf("got violations %v, want [%s]", kinds, kind)
		}
		if len(out) < off || !bytes.Equal(out[:off], data[:off]) {
			t.Fatalf("got %q handed on, want the input's first %d bytes first", out, off)
		}
		tail := string(out[off:])
		switch {
		case kind == HeadTooLarge:
			if n := max(fuzzMax, http.DefaultMaxHeaderBytes) + 2*4096 + 1; len(tail)+filled != n || strings.Trim(tail, "a") != "" {
				t.Fatalf("got %d bytes after a large head, want %d of filler", len(tail)+filled, n)
			}
		case s.inBody() && tail != bodyReject, !s.inBody() && tail != headReject:
			t.Fatalf("got %q after a %s, want the synthetic bytes", tail, kind)
		}
	}
	if s.state == stPass {
		return
	}
	ends := messageEnds(data)
	for _, m := range goAccepted(out) {
		if kind != 0 && m[1] > off {
			t.Fatalf("net/http accepts a request that runs into the synthetic bytes: %q", out[m[0]:m[1]])
		}
		if !ends[m[1]] {
			t.Fatalf("net/http ends a request at %d, the guard does not: %q", m[1], out[m[0]:m[1]])
		}
		if msg := headFault(out[m[0]:m[1]]); msg != "" {
			t.Fatalf("handed on a request with %s: %q", msg, out[m[0]:m[1]])
		}
	}
}

// checkValid builds a stream of valid requests from data: it must pass
// unchanged, and net/http must see the same requests in it.
func checkValid(t *testing.T, data []byte, piece int) {
	stream, want := validStream(&dice{b: data})
	out, _, kinds := pipeGuard(t, []byte(stream), piece)
	if len(kinds) != 0 || string(out) != stream {
		t.Fatalf("valid stream %q: got %v and %q, want no violation and the input", stream, kinds, out)
	}
	got := goAccepted(out)
	if len(got) != len(want) {
		t.Fatalf("valid stream %q: net/http read %d requests, want %d", stream, len(got), len(want))
	}
	for i, m := range got {
		if m[1] != want[i] {
			t.Fatalf("valid stream %q: request %d ends at %d for net/http, want %d", stream, i, m[1], want[i])
		}
	}
}

// pipeGuard writes in, piece bytes at a time, into one end of a pipe and
// reads the other end through the guard. Of what comes out it keeps the
// length of in and of the synthetic bytes, and counts the filler past that,
// so that an oversized head's megabyte of filler does not slow the fuzzer.
func pipeGuard(t *testing.T, in []byte, piece int) (out []byte, filled int, kinds []Kind) {
	client, server := net.Pipe()
	g := Conn(server, Options{MaxHeaderBytes: fuzzMax, OnViolation: func(k Kind, _ net.Addr) { kinds = append(kinds, k) }})
	go func() {
		for off := 0; off < len(in); off += piece {
			if _, err := client.Write(in[off:min(len(in), off+piece)]); err != nil {
				return
			}
		}
		client.Close()
	}()
	defer g.Close()
	defer client.Close()
	keep := len(in) + len(headReject) + len(bodyReject)
	buf := make([]byte, 32<<10)
	for {
		n, err := g.Read(buf)
		k := min(n, keep-len(out))
		out = append(out, buf[:k]...)
		if rest := string(buf[k:n]); strings.Trim(rest, "a") != "" {
			t.Fatalf("got %q past the input and the synthetic bytes, want filler", rest)
		}
		filled += n - k
		if err == io.EOF {
			return out, filled, kinds
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// messageEnds marks the offsets in data where the guard sees a request end.
func messageEnds(data []byte) map[int]bool {
	ends := map[int]bool{}
	s := newScanner(fuzzMax)
	for i := range data {
		if _, k := s.scan(data[i : i+1]); k != 0 {
			break
		}
		if s.state == stStart && s.n == 0 && s.lines == 0 {
			ends[i+1] = true
		}
	}
	return ends
}

// goAccepted returns the start and end of each request that net/http's
// parser reads in full from the start of b.
func goAccepted(b []byte) [][2]int {
	r := bytes.NewReader(b)
	br := bufio.NewReader(r)
	pos := func() int { return len(b) - r.Len() - br.Buffered() }
	var msgs [][2]int
	for {
		start := pos()
		req, err := http.ReadRequest(br)
		if err != nil {
			return msgs
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return msgs
		}
		msgs = append(msgs, [2]int{start, pos()})
	}
}

// headFault checks a request's head independently of the scanner, for the
// faults that desynchronise a proxy from its server.
func headFault(msg []byte) string {
	lines := strings.Split(string(msg), "\n")
	var length, encoding bool
	for i, line := range lines {
		if line == "\r" {
			break
		}
		switch {
		case !strings.HasSuffix(line, "\r"):
			return "a bare LF"
		case strings.Count(line, "\r") > 1:
			return "a bare CR"
		case i > 0 && (line[0] == ' ' || line[0] == '\t'):
			return "an obs-fold"
		}
		name, _, _ := strings.Cut(line, ":")
		length = length || i > 0 && strings.EqualFold(name, "Content-Length")
		encoding = encoding || i > 0 && strings.EqualFold(name, "Transfer-Encoding")
	}
	switch {
	case length && encoding:
		return "Content-Length and Transfer-Encoding"
	case encoding && strings.HasSuffix(lines[0], "HTTP/1.0\r"):
		return "Transfer-Encoding on HTTP/1.0"
	}
	return ""
}
