package load

import (
	"testing"
	"time"
)

// fakeClock is time that moves only when a sleep or a request moves it, so
// a schedule can be checked exactly and without waiting.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) SleepUntil(t time.Time) {
	if t.After(c.now) {
		c.now = t
	}
}

// server is a fake server on the fake clock: each request takes service,
// and a request that arrives during the stall waits for its end.
type server struct {
	clk                   *fakeClock
	service               time.Duration
	stallFrom, stallUntil time.Duration
	start                 time.Time
	sent                  []time.Duration
}

func (s *server) do() (int64, error) {
	at := s.clk.now.Sub(s.start)
	s.sent = append(s.sent, at)
	if at >= s.stallFrom && at < s.stallUntil {
		s.clk.now = s.start.Add(s.stallUntil)
	}
	s.clk.now = s.clk.now.Add(s.service)
	return 0, nil
}

// slowLatency sits between the test's latencies (whole milliseconds
// apart), so no histogram bucket straddles it.
const slowLatency = 97 * time.Millisecond

// TestWorkStartedLate checks that a closed-loop worker that first runs
// after the end, as on a starved machine, still sends one request, and an
// open-loop one sends none, every due time being past.
func TestWorkStartedLate(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(500 * time.Millisecond)
	for _, tc := range []struct {
		name  string
		sched *schedule
		want  int
	}{{"closed loop", nil, 1}, {"open loop", newSchedule(start, 10), 0}} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{now: end.Add(10 * time.Millisecond)}
			srv := &server{clk: clk, service: time.Millisecond, stallFrom: time.Hour, start: start}
			work(clk, tc.sched, end, srv.do, newTally(), new(shared))
			if len(srv.sent) != tc.want {
				t.Errorf("got %d requests, want %d", len(srv.sent), tc.want)
			}
		})
	}
}

func TestWorkSchedule(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name    string
		rate    float64 // 0 is closed loop
		service time.Duration
		stall   [2]time.Duration
		// want: requests answered, how many were slow, the largest
		// latency (within 2 ms) and the unsent count.
		wantN, wantSlow int
		wantMax         time.Duration
		wantUnsent      uint64
	}{
		{name: "open loop, steady server", rate: 100, service: ms,
			wantN: 100, wantSlow: 0, wantMax: ms},
		{name: "open loop, 500 ms stall shows in the requests that waited", rate: 100, service: ms,
			stall: [2]time.Duration{200 * ms, 700 * ms}, wantN: 100, wantSlow: 45, wantMax: 501 * ms},
		{name: "closed loop, the same stall hides in one request", service: ms,
			stall: [2]time.Duration{200 * ms, 700 * ms}, wantN: 500, wantSlow: 1, wantMax: 501 * ms},
		{name: "open loop, server slower than the rate falls behind", rate: 100, service: 20 * ms,
			wantN: 50, wantSlow: 42, wantMax: 510 * ms, wantUnsent: 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			clk := &fakeClock{now: start}
			srv := &server{clk: clk, service: tc.service, stallFrom: tc.stall[0], stallUntil: tc.stall[1], start: start}
			var sched *schedule
			if tc.rate > 0 {
				sched = newSchedule(start, tc.rate)
			}
			tl := newTally()
			work(clk, sched, start.Add(time.Second), srv.do, tl, new(shared))

			if got := int(tl.lat.Count()); got != tc.wantN {
				t.Errorf("requests: got %d, want %d", got, tc.wantN)
			}
			slow := int(tl.lat.Count()) - countBelow(&tl, slowLatency)
			if slow != tc.wantSlow {
				t.Errorf("requests ≥ %v: got %d, want %d", slowLatency, slow, tc.wantSlow)
			}
			if got := time.Duration(tl.lat.Max()); got < tc.wantMax-2*ms || got > tc.wantMax+2*ms {
				t.Errorf("max latency: got %v, want %v", got, tc.wantMax)
			}
			if tl.unsent != tc.wantUnsent {
				t.Errorf("unsent: got %d, want %d", tl.unsent, tc.wantUnsent)
			}
		})
	}
}

// countBelow counts recorded latencies under d, from the histogram's
// quantiles: the rank of the first value at or above d. The quantile of
// rank i is asked as (i − ½)/n, so rounding cannot land on rank i+1.
func countBelow(tl **tally, d time.Duration) int {
	h := &(*tl).lat
	n := int(h.Count())
	for i := 1; i <= n; i++ {
		if time.Duration(h.Quantile((float64(i)-0.5)/float64(n))) >= d {
			return i - 1
		}
	}
	return n
}

func TestScheduleDueTimes(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		rate float64
		want []time.Duration
	}{
		{"100 per second", 100, []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}},
		{"3 per second", 3, []time.Duration{0, 333333333, 666666666, 999999999}},
		{"1 per second", 1, []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSchedule(start, tc.rate)
			for i, w := range tc.want {
				if got := s.take().Sub(start); got != w {
					t.Errorf("due time %d: got %v, want %v", i, got, w)
				}
			}
		})
	}
}

func TestOpenLoopSendsAtDueTimes(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: start}
	srv := &server{clk: clk, service: time.Millisecond, start: start}
	work(clk, newSchedule(start, 50), start.Add(100*time.Millisecond), srv.do, newTally(), new(shared))
	want := []time.Duration{0, 20 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond, 80 * time.Millisecond}
	if len(srv.sent) != len(want) {
		t.Fatalf("sends: got %v, want %v", srv.sent, want)
	}
	for i := range want {
		if srv.sent[i] != want[i] {
			t.Errorf("send %d: got %v, want %v", i, srv.sent[i], want[i])
		}
	}
}
