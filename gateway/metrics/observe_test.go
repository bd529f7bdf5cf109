package metrics

import (
	"strconv"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// hotRecord is a routed request as the gateway hands it over.
func hotRecord() *accesslog.Record {
	return &accesslog.Record{
		ResponseCode: 200, Duration: 12 * time.Millisecond,
		BytesReceived: 512, BytesSent: 4096, Authority: "shop.example.com",
	}
}

func TestObserveAllocs(t *testing.T) {
	tests := []struct {
		name   string
		labels Labels
		rec    *accesslog.Record
	}{
		{"routed", shopLabels, hotRecord()},
		{"host fallback", Labels{}, &accesslog.Record{ResponseCode: 404, Flags: accesslog.NoRouteFound, Authority: "Other.Example.com:80"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			m.Observe(tt.rec, tt.labels) // resolve the series once
			got := testing.AllocsPerRun(1000, func() { m.Observe(tt.rec, tt.labels) })
			if got > 2 {
				t.Errorf("got %v allocs per Observe, want at most 2", got)
			}
		})
	}
}

// BenchmarkObserve is the steady state: the series is cached.
//
//	go test ./gateway/metrics -run '^$' -bench . -benchmem
func BenchmarkObserve(b *testing.B) {
	m := New()
	r := hotRecord()
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(r, shopLabels)
	}
}

// BenchmarkObserveParallel shows the shared read lock under concurrency.
func BenchmarkObserveParallel(b *testing.B) {
	m := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := hotRecord()
		for pb.Next() {
			m.Observe(r, shopLabels)
		}
	})
}

// BenchmarkWithLabelValues is the uncached way, for comparison: a slice of
// 25 values built and looked up in each of the four vectors per request.
func BenchmarkWithLabelValues(b *testing.B) {
	m := New()
	r := hotRecord()
	b.ReportAllocs()
	for b.Loop() {
		k := seriesKey{Labels: shopLabels, code: r.ResponseCode, flags: r.Flags}
		k.RequestProtocol = protoHTTP
		s := m.istio.resolve(&k)
		s.requests.Inc()
		s.duration.Observe(float64(r.Duration) / float64(time.Millisecond))
		s.requestBytes.Observe(float64(r.BytesReceived))
		s.responseBytes.Observe(float64(r.BytesSent))
	}
}

// BenchmarkObserveManySeries spreads requests over 500 label sets, most of
// their hosts past maxHostLabels, as a flood of made-up Host headers does.
func BenchmarkObserveManySeries(b *testing.B) {
	m := New()
	recs := make([]*accesslog.Record, 500)
	for i := range recs {
		recs[i] = hotRecord()
		recs[i].ResponseCode = 100 + i
		recs[i].Authority = "h" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Observe(recs[i%len(recs)], Labels{})
		i++
	}
}

func TestObserveConcurrent(t *testing.T) {
	m := New()
	const workers, each = 8, 200
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				r := hotRecord()
				r.ResponseCode = 200 + (w+i)%3
				m.Observe(r, shopLabels)
			}
		}()
	}
	for range workers {
		<-done
	}
	var total float64
	for _, s := range scrape(t, m)["istio_requests_total"].GetMetric() {
		total += s.GetCounter().GetValue()
	}
	if total != workers*each {
		t.Errorf("istio_requests_total summed: got %v, want %d", total, workers*each)
	}
}
