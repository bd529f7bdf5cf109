package ratelimit

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// FuzzLimit checks any configuration and any request: a configuration is
// either refused with field errors alone, or it builds a limit that, with
// the clock stopped, admits exactly burst requests of one key and then
// refuses with a Retry-After no longer than a token takes to come.
func FuzzLimit(f *testing.F) {
	f.Add(10.0, 20, "remote_ip", 100, 128, "192.0.2.1", "v")
	f.Add(0.5, 0, "header:x-api-key", 1, 128, "2001:db8::1", "")
	f.Add(1e-9, 1, "principal", 5, 64, "::ffff:10.0.0.1", "spiffe://td/ns/a/sa/b")
	f.Add(-1.0, -1, "header:x y", 0, 0, "", "\r\n")
	f.Add(math.NaN(), 3, "route", 1, 129, "fe80::1%eth0", "-")
	f.Add(1e9, 1000, "header:", 1<<40, 1, "0.0.0.0", "x")
	f.Fuzz(func(t *testing.T, perSecond float64, burst int, k string, maxKeys, prefix int, ip, value string) {
		cfg := &Config{PerSecond: perSecond, Key: k, MaxKeys: maxKeys, IPv6Prefix: prefix}
		if burst != 0 {
			cfg.Burst = &burst
		}
		cfg.MaxKeys = min(cfg.MaxKeys, 1<<20) // a larger table only costs the fuzzer memory
		h, err := Factory().Build(cfg)
		if err != nil {
			if h != nil {
				t.Errorf("got handler %T with error %v, want nil", h, err)
			}
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				if fe := (*plugins.FieldError)(nil); !errors.As(e, &fe) {
					t.Errorf("got error %v, want a *plugins.FieldError", e)
				}
			}
			return
		}
		rl := h.(*RateLimit)
		rl.now = func() int64 { return 1 }
		req := plugintest.Get(http.Header{"X-Api-Key": {value}})
		req.Client, _ = netip.ParseAddr(ip)
		if value != "" {
			req.Identity = &plugins.Identity{SPIFFEID: value}
		}
		want := int(rl.rate.burst)
		if want > 1000 {
			return // too long a run to be worth the fuzzer's time
		}
		for i := range want + 1 {
			err := rl.HandleRequest(context.Background(), req)
			if i < want {
				if err != nil {
					t.Fatalf("request %d of burst %d: got %v, want admitted", i+1, want, err)
				}
				continue
			}
			rej, ok := err.(*plugins.Reject)
			if !ok || rej.Status != http.StatusTooManyRequests || rej.Flag != "RL" {
				t.Fatalf("request %d of burst %d: got %v, want 429 with flag RL", i+1, want, err)
			}
			secs, err := strconv.ParseInt(rej.Header.Get("Retry-After"), 10, 64)
			if err != nil || secs < 1 || secs > maxRetryAfter || float64(secs) > math.Ceil(1/perSecond) {
				t.Errorf("got Retry-After %q at %v a second, want 1 to %v", rej.Header.Get("Retry-After"),
					perSecond, math.Min(maxRetryAfter, math.Ceil(1/perSecond)))
			}
		}
	})
}
