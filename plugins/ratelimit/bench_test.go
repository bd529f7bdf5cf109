package ratelimit

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/portcullis-gw/portcullis/plugins"
)

// hotKeys are requests with 1024 distinct values for every key kind, the
// steady state of a busy route whose clients' buckets are all held.
func hotKeys() []*plugins.Request {
	reqs := make([]*plugins.Request, 1024)
	for i := range reqs {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String()
		reqs[i] = req(ip, fmt.Sprintf("spiffe://cluster.local/ns/n/sa/%d", i), "X-Api-Key", fmt.Sprintf("key-%d", i))
	}
	return reqs
}

var benchKeys = []string{"remote_ip", "header:x-api-key", "route", "principal"}

// open is a limit that admits every request; shut one that refuses every
// request after each key's first.
var (
	open = Config{PerSecond: 1e9, Burst: ptr(1 << 30)}
	shut = Config{PerSecond: 1e-3, Burst: ptr(1)}
)

// TestAllocs checks that deciding a request allocates nothing once its key
// is held, whether the request is admitted or refused.
func TestAllocs(t *testing.T) {
	reqs := hotKeys()
	for _, key := range benchKeys {
		for name, cfg := range map[string]Config{"admitted": open, "refused": shut} {
			t.Run(key+" "+name, func(t *testing.T) {
				cfg.Key = key
				h, _ := limiter(t, cfg)
				ctx := context.Background()
				for _, r := range reqs {
					h.HandleRequest(ctx, r)
				}
				i := 0
				got := testing.AllocsPerRun(1000, func() {
					h.HandleRequest(ctx, reqs[i%len(reqs)])
					i++
				})
				if got != 0 {
					t.Errorf("got %v allocations a request, want 0", got)
				}
			})
		}
	}
}

// BenchmarkAllow measures one decision on the real clock, for each key kind.
//
//	go test -run '^$' -bench Allow -benchmem ./plugins/ratelimit/
func BenchmarkAllow(b *testing.B) {
	reqs := hotKeys()
	for _, key := range benchKeys {
		for _, c := range []struct {
			name string
			cfg  Config
		}{{"admitted", open}, {"refused", shut}} {
			b.Run(key+"/"+c.name, func(b *testing.B) {
				c.cfg.Key, c.cfg.MaxKeys, c.cfg.IPv6Prefix = key, 100000, 128
				h, err := Factory().Build(&c.cfg)
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				i := 0
				for b.Loop() {
					h.HandleRequest(ctx, reqs[i&1023])
					i++
				}
			})
		}
	}
}

// BenchmarkAllowParallel compares one lock for all keys with the sharded
// table, under requests from every core.
func BenchmarkAllowParallel(b *testing.B) {
	reqs := hotKeys()
	for _, shards := range []int{1, 16} {
		b.Run(fmt.Sprint("shards=", shards), func(b *testing.B) {
			cfg := open
			cfg.Key, cfg.MaxKeys, cfg.IPv6Prefix = "remote_ip", 100000, 128
			h, err := Factory().Build(&cfg)
			if err != nil {
				b.Fatal(err)
			}
			rl := h.(*RateLimit)
			rl.buckets = &table{shards: make([]shard, shards), mask: uint64(shards - 1)}
			for i := range rl.buckets.shards {
				rl.buckets.shards[i].lru, _ = simplelru.NewLRU[key, *bucket](100000/shards, nil)
			}
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				i := 0
				for pb.Next() {
					rl.HandleRequest(ctx, reqs[i&1023])
					i += 7
				}
			})
		})
	}
}
