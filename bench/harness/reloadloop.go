package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"time"
)

// reloadStats is what the reloads of one round did.
type reloadStats struct {
	// reloads were triggered; applied were answered with their variant
	// before the next was due, the slowest after slowest.
	reloads, applied int
	slowest          time.Duration
	// firstErr is the first reason a reload was not applied.
	firstErr string
	// probeErrs counts the probes' failed requests by kind: requests to
	// the contender that failed while it reloaded, like the load's.
	probeErrs   map[string]uint64
	probeSample string
}

// probeEvery is how often a probe asks whether a reload is in force.
const probeEvery = 5 * time.Millisecond

// start reloads every interval, the first half an interval in, until the
// returned stop is called; stop returns what the reloads did. Each reload
// has within to be in force. stop lets a reload under way finish, and one
// that was due before it was called still runs, so that a round on a
// loaded machine, where timers fire late, counts its reloads.
func (r *reloader) start(ctx context.Context, every, within time.Duration) (stop func() reloadStats) {
	stopping := make(chan struct{})
	done := make(chan reloadStats, 1)
	go func() { done <- r.loop(ctx, stopping, every, within) }()
	return func() reloadStats {
		close(stopping)
		return <-done
	}
}

func (r *reloader) loop(ctx context.Context, stopping <-chan struct{}, every, within time.Duration) reloadStats {
	st := reloadStats{probeErrs: map[string]uint64{}}
	due := time.Now().Add(every / 2)
	for {
		select {
		case <-ctx.Done():
			return st
		case <-stopping:
			if time.Now().Before(due) {
				return st
			}
		case <-time.After(time.Until(due)):
		}
		took, err := r.once(ctx, time.Now().Add(within), &st)
		if ctx.Err() != nil {
			return st
		}
		st.reloads++
		switch {
		case err == nil:
			st.applied++
			st.slowest = max(st.slowest, took)
		case st.firstErr == "":
			st.firstErr = err.Error()
		}
		// A reload slower than the interval skips the ticks it overran.
		for due = due.Add(every); !due.After(time.Now()); due = due.Add(every) {
		}
	}
}

// once triggers one reload to the other variant and probes until the
// contender answers with it, or until deadline.
func (r *reloader) once(ctx context.Context, deadline time.Time, st *reloadStats) (time.Duration, error) {
	v := variants[r.next]
	// Whatever happens next, the file now holds v, so the next reload is
	// to the other one.
	r.next = 1 - r.next
	start := time.Now()
	if err := r.trigger(ctx, v); err != nil {
		return 0, err
	}
	last := "no answer"
	for {
		got, err := r.probe(ctx)
		switch {
		case ctx.Err() != nil:
			return 0, ctx.Err()
		case err != nil:
			kind := "probe_" + probeKind(err)
			st.probeErrs[kind]++
			if st.probeSample == "" {
				st.probeSample = err.Error()
			}
			last = err.Error()
		case got == v:
			return time.Since(start), nil
		default:
			last = fmt.Sprintf("variant %q", got)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("variant %q not in force after %v: the last probe got %s", v, time.Since(start).Round(time.Millisecond), last)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(probeEvery):
		}
	}
}

// statusError is a probe answered with a status other than 200.
type statusError int

func (e statusError) Error() string { return fmt.Sprintf("status %d", int(e)) }

// probe asks for GET /1k on a new connection, so it reaches the
// configuration in force now (a new nginx or HAProxy worker, Caddy's new
// server) rather than one a kept-alive connection is still bound to, and
// returns the variant that answered.
func (r *reloader) probe(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return "", err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", statusError(resp.StatusCode)
	}
	if err != nil {
		return "", err
	}
	return resp.Header.Get(reloadHeader), nil
}

// probeKind names a failed probe's kind, in the load generator's words.
func probeKind(err error) string {
	var se statusError
	var ne interface{ Timeout() bool }
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("status_%d", int(se))
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "other"
}
