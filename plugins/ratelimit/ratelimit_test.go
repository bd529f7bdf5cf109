package ratelimit

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// limiter builds a limit from cfg on a clock that moves only when the test
// moves it, by adding to the returned nanoseconds.
func limiter(t testing.TB, cfg Config) (*RateLimit, *int64) {
	t.Helper()
	def := Factory().Config().(*Config)
	if cfg.Key == "" {
		cfg.Key = def.Key
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = def.MaxKeys
	}
	if cfg.IPv6Prefix == 0 {
		cfg.IPv6Prefix = def.IPv6Prefix
	}
	h, err := Factory().Build(&cfg)
	if err != nil {
		t.Fatalf("got build error %v, want nil", err)
	}
	rl := h.(*RateLimit)
	now := new(int64)
	rl.now = func() int64 { return *now }
	return rl, now
}

func ptr(n int) *int { return &n }

// wait returns 0 when h admits req, or else the Retry-After seconds of its
// refusal; it fails the test on any other outcome.
func wait(t testing.TB, h *RateLimit, req *plugins.Request) int64 {
	t.Helper()
	err := h.HandleRequest(context.Background(), req)
	if err == nil {
		return 0
	}
	var rej *plugins.Reject
	if !errors.As(err, &rej) {
		t.Fatalf("got error %v, want nil or a *plugins.Reject", err)
	}
	secs, ok := rej.Header["Retry-After"]
	if !ok || len(secs) != 1 {
		t.Fatalf("got Retry-After %q, want one value", secs)
	}
	var n int64
	for _, c := range secs[0] {
		n = n*10 + int64(c-'0')
	}
	return n
}

func client(ip string) *plugins.Request {
	r := plugintest.Get(nil)
	r.Client = netip.MustParseAddr(ip)
	return r
}

// step is one request of a sequence: the clock moves by after, then a
// request from the one client is sent.
type step struct {
	after time.Duration
	want  int64 // 0 for admitted, else the Retry-After seconds
}

func TestBucketSequences(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"burst then refuse", Config{PerSecond: 1, Burst: ptr(3)},
			[]step{{0, 0}, {0, 0}, {0, 0}, {0, 1}, {0, 1}}},
		{"default burst is the rate rounded up", Config{PerSecond: 2.5},
			[]step{{0, 0}, {0, 0}, {0, 0}, {0, 1}}},
		{"refill over time", Config{PerSecond: 2, Burst: ptr(2)}, []step{
			{0, 0}, {0, 0}, {0, 1},
			{500 * time.Millisecond, 0}, {0, 1},
			{time.Second, 0}, {0, 0}, {0, 1},
		}},
		{"refill stops at burst", Config{PerSecond: 10, Burst: ptr(2)},
			[]step{{0, 0}, {0, 0}, {time.Hour, 0}, {0, 0}, {0, 1}}},
		{"retry-after counts down", Config{PerSecond: 0.1, Burst: ptr(1)}, []step{
			{0, 0}, {0, 10},
			{3500 * time.Millisecond, 7}, // 6.5 s left rounds up
			{6 * time.Second, 1},         // 0.5 s left
			{time.Second, 0}, {0, 10},
		}},
		{"half a token a second", Config{PerSecond: 0.5},
			[]step{{0, 0}, {0, 2}, {time.Second, 1}, {time.Second, 0}, {0, 2}}},
		{"fast rate waits at least a second", Config{PerSecond: 1000, Burst: ptr(1)},
			[]step{{0, 0}, {0, 1}, {time.Millisecond, 0}, {0, 1}}},
		{"slow rate past the prebuilt answers", Config{PerSecond: 1.0 / 4096, Burst: ptr(1)},
			[]step{{0, 0}, {0, 4096}, {4095500 * time.Millisecond, 1}, {time.Second, 0}}},
		{"vanishing rate waits a year at most", Config{PerSecond: 5e-324, Burst: ptr(1)},
			[]step{{0, 0}, {0, maxRetryAfter}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, now := limiter(t, tt.cfg)
			req := client("192.0.2.1")
			for i, s := range tt.steps {
				*now += int64(s.after)
				if got := wait(t, h, req); got != s.want {
					t.Fatalf("step %d: got wait %d, want %d", i, got, s.want)
				}
			}
		})
	}
}

func TestClockBackwardsRefillsNothing(t *testing.T) {
	h, now := limiter(t, Config{PerSecond: 1, Burst: ptr(1)})
	req := client("192.0.2.1")
	*now = int64(10 * time.Second)
	wait(t, h, req)
	// A request that read the clock before the last one took the lock.
	*now = int64(5 * time.Second)
	if got := wait(t, h, req); got != 1 {
		t.Fatalf("got wait %d, want 1", got)
	}
	*now = int64(11 * time.Second)
	if got := wait(t, h, req); got != 0 {
		t.Errorf("got wait %d one second after the last refill, want 0", got)
	}
}

func TestReject(t *testing.T) {
	h, _ := limiter(t, Config{PerSecond: 1, Burst: ptr(1)})
	req := client("192.0.2.1")
	wait(t, h, req)
	err := h.HandleRequest(context.Background(), req)
	var rej *plugins.Reject
	if !errors.As(err, &rej) {
		t.Fatalf("got %v, want a *plugins.Reject", err)
	}
	// Flag RL is what the gateway's access log prints and what
	// istio_requests_total{response_code="429",response_flags="RL"} counts:
	// that series is the limit's count in metrics.
	if rej.Status != http.StatusTooManyRequests || rej.Flag != "RL" || rej.Details != "local_rate_limited" ||
		rej.Body != "local_rate_limited" {
		t.Errorf("got %+v, want status 429, flag RL, details local_rate_limited, body \"local_rate_limited\"", rej)
	}
	if got := rej.Header.Get("Retry-After"); got != "1" {
		t.Errorf("got Retry-After %q, want %q", got, "1")
	}
	// The answer is shared by refused requests: an append to its header
	// must copy rather than write into the shared array.
	if vs := rej.Header["Retry-After"]; cap(vs) != len(vs) {
		t.Errorf("got Retry-After with capacity %d, want %d", cap(vs), len(vs))
	}
	if again := h.HandleRequest(context.Background(), req); again != error(rej) {
		t.Errorf("got a second refusal %p, want the shared %p", again, rej)
	}
}

// TestOverProtocols limits requests that came over HTTP/1.1, HTTP/2 and
// HTTP/3 by a header read through the view: the second with the same key
// is refused, one with another key is not.
func TestOverProtocols(t *testing.T) {
	for _, proto := range plugintest.Protocols {
		t.Run(proto, func(t *testing.T) {
			h, _ := limiter(t, Config{PerSecond: 1e-3, Burst: ptr(1), Key: "header:x-api-key"})
			send := func(key string) error {
				return plugintest.Run(t, proto, h, plugintest.Exchange{Header: http.Header{"x-api-key": {key}}}).Err
			}
			if err := send("k1"); err != nil {
				t.Fatalf("got %v for the first request, want it admitted", err)
			}
			var rej *plugins.Reject
			if err := send("k1"); !errors.As(err, &rej) || rej.Status != http.StatusTooManyRequests {
				t.Fatalf("got %v for the second, want 429", err)
			}
			if err := send("k2"); err != nil {
				t.Fatalf("got %v for another key, want it admitted", err)
			}
		})
	}
}
