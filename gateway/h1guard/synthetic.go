package h1guard

import (
	"io"
	"net/http"
	"strings"
)

// The synthetic bytes put in place of the rest of an offending request. The
// guard hands on every byte it has checked at once, so net/http may stand
// anywhere in the offending message when they arrive; each is built to be
// rejected wherever that is.
const (
	// headReject lands a NUL in whatever part of the head net/http is
	// reading (method, target, version, field name or value), and it
	// refuses a NUL in every one of them with 400. At the start of a
	// request it is a request line with a NUL for a method.
	headReject = "\x00 / HTTP/1.1\r\n\r\n"

	// bodyReject starts with a CR that is not the end of its line, which
	// Go's chunked reader refuses in a chunk-size line ("invalid CR") and in
	// place of the CRLF after the data; in a trailer section it makes a
	// field line without a colon, and the empty line after it lets the
	// trailer parser reach that line instead of waiting for more.
	bodyReject = "\r\r\n\x00\r\n\r\n"
)

// filler is copied out repeatedly for an oversized head: a line that does not
// end, so net/http reads on until its own limit and answers 431.
var filler = strings.Repeat("a", 4096)

// violate records the violation and arms the synthetic bytes.
func (c *conn) violate(kind Kind) {
	c.dead = true
	c.kind.Store(uint32(kind))
	switch {
	case c.scan.inBody():
		c.synth = bodyReject
	case kind == HeadTooLarge:
		// net/http stops at MaxHeaderBytes + 4096 bytes of a request, plus
		// what its 4 KiB buffer held before the request began. Covering its
		// default limit as well answers 431 also when the server was left at
		// its default; a server with a larger limit reaches the end of the
		// filler instead and answers 400.
		c.fill = max(c.opts.MaxHeaderBytes, http.DefaultMaxHeaderBytes) + 2*4096 + 1
	default:
		c.synth = headReject
	}
	if c.opts.OnViolation != nil {
		c.opts.OnViolation(kind, c.Conn.RemoteAddr())
	}
}

// readSynthetic hands on the synthetic bytes, then io.EOF.
func (c *conn) readSynthetic(p []byte) (int, error) {
	if c.synth != "" {
		n := copy(p, c.synth)
		c.synth = c.synth[n:]
		return n, nil
	}
	n := 0
	for n < len(p) && c.fill > 0 {
		k := copy(p[n:min(len(p), n+c.fill)], filler)
		n += k
		c.fill -= k
	}
	if n > 0 {
		return n, nil
	}
	return 0, io.EOF
}
