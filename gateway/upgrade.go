package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// upgradeFor decides what becomes of a request's Upgrade header before it
// is forwarded, and returns the one protocol forwarded as an upgrade, or
// "" for none. HTTP2-Settings and the h2c offer go in every case, as
// Envoy and nginx drop them: a backend that switched to HTTP/2 would carry
// requests that the gateway never routes, checks or logs. An upgrade asks
// for one protocol the route allows, on HTTP/1.1 with Connection: upgrade;
// anything else is no upgrade, and its Upgrade header goes too (it is
// hop-by-hop). ok is false when the client asked for a protocol the route
// does not allow: that request is refused, never sent as a plain one.
func upgradeFor(r *http.Request, allows func(string) bool) (protocol string, ok bool) {
	h := r.Header
	delete(h, "Http2-Settings")
	offers := h["Upgrade"]
	if offers == nil {
		return "", true
	}
	delete(h, "Upgrade")
	if !r.ProtoAtLeast(1, 1) || r.ProtoMajor != 1 ||
		!httpguts.HeaderValuesContainsToken(h["Connection"], "upgrade") {
		return "", true
	}
	n := 0
	for _, v := range offers {
		for p := range strings.SplitSeq(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" || strings.EqualFold(p, "h2c") {
				continue
			}
			protocol, n = p, n+1
		}
	}
	switch {
	case n == 0:
		return "", true
	case n > 1 || !allows(protocol):
		// The gateway forwards one protocol, one the route names.
		return "", false
	}
	h["Upgrade"] = []string{protocol}
	return protocol, true
}

// errBadSwitch is an upstream's 101 that the request did not ask for, or
// that switched to another protocol than the one asked.
var errBadSwitch = errors.New("upstream switched protocols unasked")

// checkSwitch accepts an upstream's 101 only as the answer to the upgrade
// the gateway forwarded, to the same protocol, with a connection to carry
// it; then the route timeout stops, and the tunnel lives as long as its
// connections. It returns the context's error when the timeout fired
// first.
func checkSwitch(ex *exchange, resp *http.Response) error {
	switched := resp.Header.Get("Upgrade")
	if ex.upgrade == "" || !strings.EqualFold(switched, ex.upgrade) ||
		!httpguts.HeaderValuesContainsToken(resp.Header["Connection"], "upgrade") {
		return errBadSwitch
	}
	if _, ok := resp.Body.(interface{ Write([]byte) (int, error) }); !ok {
		return errBadSwitch
	}
	if d := ex.deadline; d != nil && !d.exempt() {
		return context.DeadlineExceeded
	}
	return nil
}

// routeDeadline is the route timeout's context. Unlike context.WithTimeout
// its timer can be stopped, which an accepted upgrade does: the timeout
// bounds the exchange up to the 101, not the tunnel after it. Err says
// context.DeadlineExceeded once the timer fired, as WithTimeout's does.
type routeDeadline struct {
	context.Context
	cancel   context.CancelFunc
	timer    *time.Timer
	at       time.Time
	fired    atomic.Bool
	exempted atomic.Bool
}

func newRouteDeadline(parent context.Context, d time.Duration) *routeDeadline {
	ctx, cancel := context.WithCancel(parent)
	rd := &routeDeadline{Context: ctx, cancel: cancel, at: time.Now().Add(d)}
	rd.timer = time.AfterFunc(d, func() {
		rd.fired.Store(true)
		cancel()
	})
	return rd
}

func (rd *routeDeadline) Err() error {
	if rd.fired.Load() {
		return context.DeadlineExceeded
	}
	return rd.Context.Err()
}

// Deadline is the timer's, until an upgrade is exempted, or the parent's
// when that comes first.
func (rd *routeDeadline) Deadline() (time.Time, bool) {
	at, ok := rd.Context.Deadline()
	if rd.exempted.Load() || ok && at.Before(rd.at) {
		return at, ok
	}
	return rd.at, true
}

// exempt stops the timer; it reports false when the timer fired first.
func (rd *routeDeadline) exempt() bool {
	if !rd.timer.Stop() {
		return false
	}
	rd.exempted.Store(true)
	return true
}

// stop ends the context when the exchange is over.
func (rd *routeDeadline) stop() {
	rd.timer.Stop()
	rd.cancel()
}
