package egress

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultReportEvery is how often an open tunnel's bytes are reported when
// Proxy.ReportEvery is zero: Istio's tcp_reporting_duration.
const DefaultReportEvery = 15 * time.Second

// report tells p.Progress, every p.ReportEvery while a tunnel is open, the
// bytes it carried since the last report, so that a tunnel open for hours
// shows in the byte counters before it closes, as Istio's TCP metrics do.
// The returned stop ends the reports; once it returns, no report runs,
// and what was not reported is the caller's to count.
func (p *Proxy) report(ctx context.Context, up, down *atomic.Int64) (stop func()) {
	if p.Progress == nil {
		return func() {}
	}
	every := p.reportEvery()
	var (
		mu       sync.Mutex
		stopped  bool
		upDone   int64
		downDone int64
		t        *time.Timer
	)
	mu.Lock()
	defer mu.Unlock()
	// A timer rather than a goroutine: a tunnel waits for its next report
	// without a stack of its own.
	t = time.AfterFunc(every, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		u, d := up.Load(), down.Load()
		if u != upDone || d != downDone {
			p.Progress(ctx, u-upDone, d-downDone)
			upDone, downDone = u, d
		}
		t.Reset(every)
	})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}

// reportEvery is how often an open tunnel's bytes are reported.
func (p *Proxy) reportEvery() time.Duration {
	if p.ReportEvery <= 0 {
		return DefaultReportEvery
	}
	return p.ReportEvery
}
