package gateway

import (
	"io"
	"net"
	"net/http"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Settings of the gateway's HTTP/2 server that conformGuard follows: the
// largest frame it reads, RFC 9113's default (x/net's own is 1 MiB, and a
// client that sends one frame that large makes the connection keep a read
// buffer of that size), and the size of its HPACK decoder's table.
const (
	h2MaxFrameSize    = 16 << 10
	h2HeaderTableSize = 4096
)

// conformGuard is an HTTP/2 connection as the server reads it. It enforces
// rules of RFC 9113 that golang.org/x/net/http2's server breaks, only by
// changing what the server reads: the server writes every frame itself.
//
//   - A SETTINGS frame may carry a setting more than once; the values are
//     processed in order (section 6.5.3). x/net refuses such a frame with a
//     connection error, so the server reads it with every occurrence but
//     the one that decides (the first invalid one, else the last) given an
//     identifier it ignores (see settingsInOrder).
//   - A request with a connection-specific header field, or with TE other
//     than "trailers", is malformed (section 8.2.2): its stream is to be
//     reset with PROTOCOL_ERROR, where x/net answers 400 (see field). The
//     server reads the request's header block followed by a WINDOW_UPDATE
//     of 0 on its stream, which it answers with exactly that reset. Its own
//     400 may go first, as section 8.1.1 allows; the gateway's handler
//     never runs.
//
// To see header fields, the guard decodes every header block the client
// sends with an HPACK decoder in step with the server's; its cost is a
// second decoding of each request's header block, and its bounds are the
// server's (table size, string length). A block that does not decode, or is
// framed against sections 6.2 and 6.10, ends the connection with the
// connection error the RFC names. x/net ends it too, but for a HEADERS frame
// padded past its end, whose stream it resets without decoding the block.
//
// SETTINGS, HEADERS and CONTINUATION frames (at most h2MaxFrameSize long)
// are held until their payload is whole; other bytes pass as they come.
type conformGuard struct {
	net.Conn
	in h2Scanner
	// frame is the frame whose payload is being gathered, need its
	// length; held says there is one.
	frame h2FrameHeader
	need  int
	held  bool
	ahead []byte // bytes read from Conn, not yet scanned
	ready []byte // bytes the server reads before any others
	err   error  // set once the connection failed: what every read returns

	dec     *hpack.Decoder
	maxStr  int    // the server decoder's longest name or value
	block   uint32 // the stream whose header block goes on, 0 between blocks
	request bool   // the block opens a stream
	bad     bool   // the block makes the request malformed
	te      bool   // the block has a TE field
	last    uint32 // the highest stream the client opened
}

// newConformGuard follows c; sawPreface says whether the client connection
// preface was already read from it, maxHeaderBytes is the http.Server's.
func newConformGuard(c net.Conn, sawPreface bool, maxHeaderBytes int) *conformGuard {
	g := &conformGuard{Conn: c}
	if !sawPreface {
		g.in.skip = len(http2.ClientPreface)
	}
	if maxHeaderBytes <= 0 {
		maxHeaderBytes = http.DefaultMaxHeaderBytes
	}
	// x/net's limit is the header list size it advertises: MaxHeaderBytes
	// and 32 bytes for each of 10 fields. The guard's is never lower, so
	// that it fails no block the server would take.
	g.maxStr = maxHeaderBytes + 10*32
	return g
}

func (c *conformGuard) Read(p []byte) (int, error) {
	switch {
	case len(c.ready) > 0:
		n := copy(p, c.ready)
		c.ready = c.ready[n:]
		return n, nil
	case c.err != nil:
		return 0, c.err
	case c.held:
		return c.gather(p)
	}
	var n int
	var err error
	buffered := len(c.ahead) > 0
	if buffered {
		n = copy(p, c.ahead)
	} else {
		n, err = c.Conn.Read(p)
	}
	// The server gets the bytes up to the end of the header of a frame the
	// guard holds; the rest waits in ahead.
	cut := n
	c.in.scan(p[:n], func(h h2FrameHeader, end int) bool {
		if !holds(h) {
			return false
		}
		c.frame, c.need, c.held, cut = h, h.length, true, end-h.length
		return true
	})
	if buffered {
		c.ahead = c.ahead[cut:]
	} else if cut < n {
		c.ahead = append(c.ahead[:0], p[cut:n]...)
	}
	if c.held && c.need == 0 {
		// An empty frame is whole already; on failure, the server
		// reads its header and then the error, as for any other.
		c.finish(nil)
	}
	return cut, err
}

// holds reports whether the guard gathers the frame's payload before the
// server reads it.
func holds(h h2FrameHeader) bool {
	switch h.typ {
	case h2FrameSettings:
		// Only a frame with an identifier twice can need changing; x/net
		// refuses one of more than 100 settings anyway.
		return h.stream == 0 && h.flags&h2FlagAck == 0 && h.length%6 == 0 && h.length >= 12 && h.length <= 600
	case h2FrameHeaders, h2FrameContinuation:
		return h.length <= h2MaxFrameSize
	}
	return false
}

// gather reads the payload of the held frame whole, has finish look at it,
// and hands it to the server.
func (c *conformGuard) gather(p []byte) (int, error) {
	if len(c.ahead) == 0 && len(p) >= c.need {
		// The server reads a payload whole, into a buffer of its size.
		n, err := io.ReadFull(c.Conn, p[:c.need])
		if n < c.need {
			// The server reads none of it: for it the connection ends
			// before the payload.
			c.ahead = append(c.ahead[:0], p[:n]...)
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			return 0, err
		}
		if !c.finish(p[:n]) {
			return 0, c.err
		}
		return n, nil
	}
	if cap(c.ahead) < c.need {
		c.ahead = append(make([]byte, 0, c.need), c.ahead...)
	}
	for len(c.ahead) < c.need {
		k, err := c.Conn.Read(c.ahead[len(c.ahead):c.need])
		c.ahead = c.ahead[:len(c.ahead)+k]
		if err != nil && len(c.ahead) < c.need {
			return 0, err
		}
	}
	payload := c.ahead[:c.need:c.need]
	c.ahead = c.ahead[c.need:]
	if !c.finish(payload) {
		return 0, c.err
	}
	c.ready = append(payload, c.ready...)
	return c.Read(p)
}

// finish looks at the whole payload of the held frame, which the server
// reads next, and reports whether the connection goes on. It may set what
// the server reads after the frame.
func (c *conformGuard) finish(payload []byte) bool {
	h := c.frame
	c.held, c.need, c.in.remain = false, 0, 0
	if h.typ == h2FrameSettings {
		settingsInOrder(payload)
		return true
	}
	if code, ok := c.headerBlock(h, payload); !ok {
		c.err = http2.ConnectionError(code)
		return false
	}
	return true
}
