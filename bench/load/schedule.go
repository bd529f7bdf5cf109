package load

import (
	"sync/atomic"
	"time"

	"github.com/portcullis-gw/portcullis/bench/hist"
)

// clock is time as the workers see it; tests give them a fake one so the
// scheduling can be checked without sleeping.
type clock interface {
	Now() time.Time
	SleepUntil(t time.Time)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) SleepUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		time.Sleep(d)
	}
}

// schedule hands out the due times of an open-loop run: request i is due at
// start + i/rate whichever worker sends it, so the rate stays fixed however
// slow the answers are.
type schedule struct {
	start    time.Time
	interval time.Duration
	next     atomic.Int64
}

func newSchedule(start time.Time, rate float64) *schedule {
	return &schedule{start: start, interval: time.Duration(float64(time.Second) / rate)}
}

// take returns the due time of the next request.
func (s *schedule) take() time.Time {
	i := s.next.Add(1) - 1
	return s.start.Add(time.Duration(i) * s.interval)
}

// tally is one worker's counts; each worker owns one, so recording takes no
// lock, and they are merged when the run ends.
type tally struct {
	lat     hist.Histogram
	errs    map[string]uint64
	samples map[string]string
	bytes   uint64
	unsent  uint64
}

// shared is what the progress line reads while workers run.
type shared struct {
	done, failed atomic.Uint64
}

// work sends requests until end. With a schedule (open loop) each latency is
// measured from the request's due time, not from when it was sent: a request
// that had to wait for a stalled server counts the wait, which is the
// coordinated-omission correction. Requests that fell due before end but
// were never sent are counted as unsent. In a closed loop every worker
// sends at least one request: on a starved machine a worker may first run
// after end, and a run that sent nothing would say nothing of the server.
func work(clk clock, sched *schedule, end time.Time, do func() (int64, error), t *tally, sh *shared) {
	for sent := false; ; sent = true {
		var from time.Time
		if sched != nil {
			due := sched.take()
			if !due.Before(end) {
				return
			}
			now := clk.Now()
			if !now.Before(end) {
				t.unsent++
				// Every later due time before end is unsent too; count them
				// here once, since no worker will take them any more.
				for d := sched.take(); d.Before(end); d = sched.take() {
					t.unsent++
				}
				return
			}
			clk.SleepUntil(due)
			from = due
		} else {
			from = clk.Now()
			if !from.Before(end) && sent {
				return
			}
		}
		n, err := do()
		if err != nil {
			kind := classify(err)
			t.errs[kind]++
			if _, ok := t.samples[kind]; !ok {
				t.samples[kind] = err.Error()
			}
			sh.failed.Add(1)
			continue
		}
		t.lat.Record(int64(clk.Now().Sub(from)))
		t.bytes += uint64(n)
		sh.done.Add(1)
	}
}

func newTally() *tally {
	return &tally{errs: map[string]uint64{}, samples: map[string]string{}}
}
