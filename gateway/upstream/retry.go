package upstream

import (
	"bytes"
	"io"
	"net/http"

	"github.com/portcullis-gw/portcullis/routes"
)

// maxReplay is the largest request body buffered so that it can be sent
// again. Larger bodies, and bodies of unknown length (a streaming upload, a
// gRPC stream), are sent as they arrive and never retried: reading one
// ahead could wait forever on a client that waits for the response.
const maxReplay = 64 << 10

// replay is a buffered request body.
type replay struct{ buf []byte }

func (r *replay) open() io.ReadCloser { return io.NopCloser(bytes.NewReader(r.buf)) }

func (r *replay) get() (io.ReadCloser, error) { return r.open(), nil }

// replayable reports whether req's body can be sent again, buffering it
// when it is small and of known length. A body with GetBody needs no
// buffer; no body needs nothing. A read error is the client's and ends the
// request.
func replayable(req *http.Request) (*replay, bool, error) {
	switch {
	case req.Body == nil || req.Body == http.NoBody || req.GetBody != nil:
		return nil, true, nil
	case req.ContentLength <= 0 || req.ContentLength > maxReplay:
		return nil, false, nil
	}
	buf := make([]byte, req.ContentLength)
	_, err := io.ReadFull(req.Body, buf)
	req.Body.Close()
	req.Body = nil
	if err != nil {
		return nil, false, err
	}
	return &replay{buf}, true, nil
}

// idempotent reports whether a request with this method may be sent twice
// without a different effect: RFC 9110's idempotent methods.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

// retriable reports whether a try's outcome is one that pol retries, with
// Envoy's meanings: reset covers every failure after or while connecting
// (per-try timeouts too), 5xx and gateway-error cover failures as well as
// their statuses.
func retriable(pol *routes.RetryPolicy, code int, f failure) bool {
	if pol == nil || f == requestFailure {
		return false // the same request would fail the same way
	}
	for _, on := range pol.On {
		switch on {
		case "connect-failure":
			if f == connectFailure {
				return true
			}
		case "refused-stream":
			if f == refusedStream {
				return true
			}
		case "reset":
			if f != noFailure {
				return true
			}
		case "5xx":
			if f != noFailure || code >= 500 {
				return true
			}
		case "gateway-error":
			if f != noFailure || code >= 502 && code <= 504 {
				return true
			}
		default:
			if f == noFailure && isStatus(on, code) {
				return true
			}
		}
	}
	return false
}

// isStatus reports whether s is code written in three digits.
func isStatus(s string, code int) bool {
	return len(s) == 3 && code >= 100 && code <= 999 &&
		int(s[0]-'0') == code/100 && int(s[1]-'0') == code/10%10 && int(s[2]-'0') == code%10
}

// takeRetry takes a place in the retry budget, Envoy's: the retries in
// progress may not exceed max(min_retry_concurrency, percent × requests in
// progress).
func (p *Pool) takeRetry() bool {
	b := p.spec.RetryBudget
	limit := max(int64(b.Percent*float64(p.active.Load())/100), int64(b.MinRetryConcurrency))
	for {
		n := p.retries.Load()
		if n >= limit {
			return false
		}
		if p.retries.CompareAndSwap(n, n+1) {
			return true
		}
	}
}
