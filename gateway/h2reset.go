package gateway

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

// A client that opens streams and resets them at once (HTTP/2 "rapid
// reset", CVE-2023-44487) makes the gateway start a request for every
// stream while the client spends nearly nothing. Envoy counts the streams
// a client resets before their response began and within a second of
// opening them ("premature" resets), and closes a connection once it has
// opened at least 500 streams and at least half of them were reset that
// way. The gateway does the same, with Envoy's defaults.
//
// Before that, a request on a connection whose streams are mostly reset
// prematurely (at least prematureResetSuspect of them) waits up to
// prematureResetWait before it is forwarded: a stream reset right behind
// its HEADERS, as in the attack, is then dropped instead of reaching an
// upstream, while an ordinary client that cancels a request now and then
// never waits.
const (
	prematureResetMinStreams = 500
	prematureResetLifetime   = time.Second
	prematureResetSuspect    = 10
	prematureResetWait       = 20 * time.Millisecond
)

// resetGuard is an HTTP/2 connection as the server reads and writes it. It
// follows the frames both ways: a client HEADERS frame opens a stream, a
// server HEADERS or RST_STREAM frame answers it, and a client RST_STREAM on
// a stream not yet answered is a premature reset. When the client crosses
// the limit, the server reads up to the end of that RST_STREAM frame and
// then, instead of more frames, a connection error ENHANCE_YOUR_CALM: the
// server itself then writes GOAWAY with that code and the last stream it
// took, through its own writer and at a frame boundary, and closes the
// connection. No stream the client opened after the limit is ever read.
type resetGuard struct {
	net.Conn
	in, out h2Scanner
	// calm is set, on the reading goroutine, once the client crossed
	// the limit; pass is how many bytes of the frame that crossed it
	// the server has yet to read.
	calm   bool
	pass   int
	onCalm func(streams, premature int)
	// suspect is set while most of the client's streams were reset
	// prematurely.
	suspect atomic.Bool
	// serverCalm is set, on the writing goroutine, once the server's own
	// resets of unanswered streams crossed the limit.
	serverCalm atomic.Bool

	mu        sync.Mutex
	open      map[uint32]time.Time // client streams not yet answered, by opening time
	last      uint32               // the highest client stream opened
	streams   int
	premature int
}

// newResetGuard follows c; sawPreface says whether the client connection
// preface was already read from it. onCalm hears once of a client that
// crossed the limit.
func newResetGuard(c net.Conn, sawPreface bool, onCalm func(streams, premature int)) *resetGuard {
	g := &resetGuard{Conn: c, onCalm: onCalm, open: make(map[uint32]time.Time)}
	if !sawPreface {
		g.in.skip = len(http2.ClientPreface)
	}
	return g
}

func (c *resetGuard) Read(p []byte) (int, error) {
	if !c.calm && c.serverCalm.Load() && c.in.have == 0 && c.in.skip == 0 {
		c.calm, c.pass = true, c.in.remain
		if c.onCalm != nil {
			c.mu.Lock()
			streams, premature := c.streams, c.premature
			c.mu.Unlock()
			c.onCalm(streams, premature)
			c.onCalm = nil
		}
	}
	if c.calm {
		if c.pass == 0 {
			return 0, http2.ConnectionError(http2.ErrCodeEnhanceYourCalm)
		}
		n, err := c.Conn.Read(p[:min(len(p), c.pass)])
		c.pass -= n
		return n, err
	}
	n, err := c.Conn.Read(p)
	read := n
	c.in.scan(p[:n], func(h h2FrameHeader, end int) bool {
		if !c.clientFrame(h) {
			return false
		}
		c.calm, c.pass, n = true, max(end-read, 0), min(end, read)
		return true
	})
	if c.calm && c.onCalm != nil {
		c.mu.Lock()
		streams, premature := c.streams, c.premature
		c.mu.Unlock()
		c.onCalm(streams, premature)
		c.onCalm = nil
	}
	return n, err
}

// clientFrame counts a frame from the client and reports whether the
// client crossed the limit with it.
func (c *resetGuard) clientFrame(h h2FrameHeader) bool {
	if h.typ != h2FrameHeaders && h.typ != h2FrameRSTStream {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h.typ == h2FrameHeaders {
		// Client streams are odd and rise; a HEADERS frame on an open
		// stream carries trailers.
		if h.stream%2 == 1 && h.stream > c.last {
			c.last = h.stream
			c.streams++
			c.open[h.stream] = time.Now()
		}
		return false
	}
	opened, ok := c.open[h.stream]
	if !ok {
		return false
	}
	delete(c.open, h.stream)
	if time.Since(opened) < prematureResetLifetime {
		c.premature++
	}
	c.suspect.Store(suspectResets(int64(c.streams), int64(c.premature)))
	return tooManyResets(int64(c.streams), int64(c.premature))
}

func (c *resetGuard) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.scan(p[:n], func(h h2FrameHeader, _ int) bool {
		if h.typ == h2FrameHeaders || h.typ == h2FrameRSTStream {
			c.mu.Lock()
			opened, ok := c.open[h.stream]
			delete(c.open, h.stream)
			if ok && h.typ == h2FrameRSTStream && time.Since(opened) < prematureResetLifetime {
				// The server reset a stream the client made it reset
				// (MadeYouReset): as premature as the client's own.
				c.premature++
				c.suspect.Store(suspectResets(int64(c.streams), int64(c.premature)))
				if tooManyResets(int64(c.streams), int64(c.premature)) {
					c.serverCalm.Store(true)
				}
			}
			c.mu.Unlock()
		}
		return false
	})
	return n, err
}

// resetGuardTLS is a resetGuard over TLS: the server reads the TLS state
// from it, as it would from the *tls.Conn.
type resetGuardTLS struct {
	*resetGuard
	tc *tls.Conn
}

// ConnectionState returns the TLS connection's state.
func (c resetGuardTLS) ConnectionState() tls.ConnectionState { return c.tc.ConnectionState() }

// admit reports whether a request on the connection should go on: not
// when its stream was reset already. c may be nil (HTTP/1).
func (c *resetGuard) admit(ctx context.Context) bool {
	if c == nil {
		return ctx.Err() == nil
	}
	return awaitReset(ctx, c.suspect.Load())
}

// awaitReset reports whether a request should go on: not when its stream
// was reset. On a suspect connection it first waits up to
// prematureResetWait for a reset.
func awaitReset(ctx context.Context, suspect bool) bool {
	if !suspect {
		return ctx.Err() == nil
	}
	t := time.NewTimer(prematureResetWait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// suspectResets reports whether a connection's streams were mostly reset
// prematurely.
func suspectResets(streams, premature int64) bool {
	return premature >= prematureResetSuspect && 2*premature >= streams
}

// tooManyResets reports whether a connection crossed the limit.
func tooManyResets(streams, premature int64) bool {
	return streams >= prematureResetMinStreams && 2*premature >= streams
}
