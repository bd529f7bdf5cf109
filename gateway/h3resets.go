package gateway

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// h3Resets counts, on one HTTP/3 connection, the request streams the
// client cancelled within a second and before their response began. QUIC
// bounds the streams open at once (max_concurrent_streams), but a stream's
// credit comes back as soon as both its sides are done, so a client can
// open and cancel streams without end, as over HTTP/2. The limits are
// HTTP/2's; past them the connection is closed with H3_EXCESSIVE_LOAD.
// quic-go hands the gateway no frames, so the count is taken as requests
// start and end: a stream cancelled before its request was read costs no
// more than reading its HEADERS frame, reaches no handler and is not
// counted.
type h3Resets struct {
	conn      *quic.Conn
	streams   atomic.Int64
	premature atomic.Int64
	suspect   atomic.Bool
	closed    atomic.Bool
	onCalm    func(streams, premature int)
}

// admit counts a request and reports whether it should go on.
func (c *h3Resets) admit(ctx context.Context) bool {
	c.streams.Add(1)
	if awaitReset(ctx, c.suspect.Load()) {
		return true
	}
	c.prematureReset()
	return false
}

// ended counts a request that went on and was cancelled before its
// response began, within prematureResetLifetime of its start.
func (c *h3Resets) ended(ctx context.Context, start time.Time, answered bool) {
	if !answered && ctx.Err() != nil && time.Since(start) < prematureResetLifetime {
		c.prematureReset()
	}
}

func (c *h3Resets) prematureReset() {
	premature, streams := c.premature.Add(1), c.streams.Load()
	c.suspect.Store(suspectResets(streams, premature))
	if tooManyResets(streams, premature) && c.closed.CompareAndSwap(false, true) {
		// Counted first, so the count is there when the client hears.
		c.onCalm(int(streams), int(premature))
		c.conn.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeExcessiveLoad), "too many streams reset before their response")
	}
}

// admitStream reports whether a request on the connection should go on:
// not when the client already reset its stream. It counts the HTTP/2 and
// HTTP/3 streams reset so.
func (c *connInfo) admitStream(ctx context.Context) bool {
	if c.h3 != nil {
		return c.h3.admit(ctx)
	}
	return c.h2.admit(ctx)
}
