package upstream

import (
	"context"
	"net/http"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/routes"
)

// Attempt carries a request's retry policy and hash key into RoundTrip, and
// what happened back out, for the access log.
type Attempt struct {
	// Retry is the route's retry policy; nil means no retries.
	Retry *routes.RetryPolicy
	// HashKey returns ring_hash's key when it hashes the client's address
	// (the gateway knows the real client behind trusted proxies); nil
	// means the request's RemoteAddr. Header and cookie keys are read
	// from the request.
	HashKey func() string
	// Body, when set, reports on the request's body when the request's
	// own body is wrapped past recognition (httputil.ReverseProxy wraps
	// it): a try that failed because the body broke is the client's
	// failure, not the endpoint's.
	Body BodyReporter

	// Endpoint is the address of the last try, for %UPSTREAM_HOST%.
	Endpoint string
	// Tries counts the tries, the first included.
	Tries int
	// Flags are the response flags RoundTrip set, also on a response:
	// URX when retries ran out, UO when the budget refused one.
	Flags accesslog.Flags
	// Details is %RESPONSE_CODE_DETAILS% for a failure; empty for a
	// response.
	Details string
	// TransportFailure is Envoy's transport failure reason for the last
	// try's failed connect ("delayed connect error: Connection refused",
	// "TLS_error:|…"), or empty; the access log's
	// %UPSTREAM_TRANSPORT_FAILURE_REASON% writes its spaces as '_'.
	TransportFailure string
}

// maxTries bounds one request's tries: the first and up to ten retries, as
// the loader allows.
const maxTries = 11

// RoundTrip sends one request upstream: it admits it against the circuit
// limits, picks an endpoint with the balancer among the eligible ones,
// retries per a.Retry within the retry budget, and fills a. The request's
// URL scheme and host are set per try; its body is closed.
//
// A response returned is final, whatever its status. A failure is an
// *Error (UH, UO, UF, UC, UR, UPE, UT, with URX or UO added), except when the
// request's context ended: then it is the context's error as it is.
func (p *Pool) RoundTrip(req *http.Request, a *Attempt) (*http.Response, error) {
	if a == nil {
		a = new(Attempt)
	}
	if !p.admit() {
		closeBody(req)
		p.obs.Overflow()
		return nil, local(a, ErrOverflow)
	}
	resp, err := p.roundTrip(req.Context(), req, a)
	if resp == nil {
		p.release() // else the response body's Close releases
	}
	return resp, err
}

// admit counts a request in and reports whether the circuit limits allow
// it.
func (p *Pool) admit() bool {
	n := p.active.Add(1)
	p.obs.Active(1)
	l := p.spec.Limits
	if l.MaxRequests > 0 && n > int64(l.MaxRequests) ||
		p.pending && l.MaxPending > 0 && p.dials.Load() >= int64(l.MaxPending) {
		p.release()
		return false
	}
	return true
}

func (p *Pool) release() {
	p.active.Add(-1)
	p.obs.Active(-1)
}

func (p *Pool) roundTrip(ctx context.Context, req *http.Request, a *Attempt) (*http.Response, error) {
	if err := p.waitResolved(ctx); err != nil {
		closeBody(req)
		return nil, err
	}
	pol, retries := a.Retry, 0
	var body *replay
	if pol != nil && pol.Attempts > 0 && (pol.RetryNonIdempotent || idempotent(req.Method)) {
		b, ok, err := replayable(req)
		if err != nil {
			return nil, err
		}
		if ok {
			body, retries = b, min(pol.Attempts, maxTries-1)
		}
	}
	var buf [maxTries]*endpoint
	tried := buf[:0]
	for try := 0; ; try++ {
		e := p.pick(req, a, tried)
		if e == nil {
			if try == 0 {
				closeBody(req)
			} else {
				p.retries.Add(-1)
			}
			return nil, local(a, ErrNoHealthy)
		}
		tried = append(tried, e)
		a.Endpoint, a.Tries = e.addr, try+1
		r := p.try(ctx, req, a, e, body, try, pol)
		if try > 0 {
			p.retries.Add(-1) // this retry is over
		}
		if ctx.Err() != nil {
			r.discard()
			return nil, ctx.Err()
		}
		code := r.code()
		p.observe(e, code, r.failure)
		switch {
		case !retriable(pol, code, r.failure):
			if try > 0 {
				p.obs.Retry(RetrySucceeded)
			}
			return p.finish(a, r)
		case try >= retries:
			if retries > 0 {
				a.Flags |= accesslog.UpstreamRetryLimitExceeded
				p.obs.Retry(RetryExhausted)
			}
			return p.finish(a, r)
		case !p.takeRetry():
			a.Flags |= accesslog.UpstreamOverflow
			p.obs.Retry(RetryOverflow)
			return p.finish(a, r)
		}
		r.discard()
		p.obs.Retry(RetryRetried)
		if err := p.backoff(ctx, try+1, pol); err != nil {
			p.retries.Add(-1)
			return nil, err
		}
	}
}

// waitResolved waits, in a started pool, for the first resolution of its
// endpoint names.
func (p *Pool) waitResolved(ctx context.Context) error {
	select {
	case <-p.resolved:
		return nil
	default:
	}
	if !p.started.Load() {
		return nil // serve what the pool has
	}
	select {
	case <-p.resolved:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finish returns the last try's outcome: its response, with a body that
// releases the request's hold on the pool when closed, or its failure.
func (p *Pool) finish(a *Attempt, r result) (*http.Response, error) {
	switch {
	case r.resp != nil:
		r.resp.Body = p.hold(r)
		return r.resp, nil
	case r.failure == noFailure:
		return nil, r.err
	case r.failure == requestFailure:
		return nil, requestError(a, r.fault, r.err)
	}
	return nil, failed(a, r.failure, r.err)
}

// backoff waits before retry n (from 1): a random time up to base × 2^(n-1),
// capped at max, Envoy's full jitter. It returns early with the context's
// error when ctx ends.
func (p *Pool) backoff(ctx context.Context, n int, pol *routes.RetryPolicy) error {
	base := time.Duration(pol.Backoff.Base)
	if base <= 0 {
		base = 25 * time.Millisecond
	}
	most := time.Duration(pol.Backoff.Max)
	if most <= 0 {
		most = 10 * base
	}
	ceiling := most
	if n < 32 {
		if c := base << (n - 1); c > 0 && c < most {
			ceiling = c
		}
	}
	d := time.Duration(p.rnd.next() % uint64(ceiling+1))
	if d == 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
