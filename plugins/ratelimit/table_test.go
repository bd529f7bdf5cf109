package ratelimit

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
)

func TestTableSizes(t *testing.T) {
	tests := []struct {
		size, shards int
	}{{1, 1}, {2, 1}, {2047, 1}, {2048, 2}, {4095, 2}, {100000, 16}, {100001, 16}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			tab := newTable(tt.size)
			if len(tab.shards) != tt.shards {
				t.Errorf("got %d shards, want %d", len(tab.shards), tt.shards)
			}
			// Fill each shard past its share to learn what it holds.
			for i := range tab.shards {
				for j := range tt.size/tt.shards + 2 {
					tab.shards[i].lru.Add(key{sum: uint64(j)}, nil)
				}
			}
			if got := tab.len(); got != tt.size {
				t.Errorf("got shards holding %d keys in all, want %d", got, tt.size)
			}
		})
	}
}

// TestDroppedKeyRestartsFull shows the cost of the bound: a key pushed out
// by newer ones comes back with a full bucket.
func TestDroppedKeyRestartsFull(t *testing.T) {
	h, _ := limiter(t, Config{PerSecond: 1, Burst: ptr(1), MaxKeys: 2})
	addrs := map[string]string{"a": "192.0.2.1", "b": "192.0.2.2", "c": "192.0.2.3"}
	steps := []struct {
		req  string
		want int64
	}{{"a", 0}, {"a", 1}, {"b", 0}, {"a", 1}, {"c", 0}, {"b", 0}, {"a", 0}, {"a", 1}}
	for i, s := range steps {
		r := client(addrs[s.req])
		if got := wait(t, h, r); got != s.want {
			t.Fatalf("step %d (%s): got wait %d, want %d", i, s.req, got, s.want)
		}
		if n := h.buckets.len(); n > 2 {
			t.Fatalf("step %d: got %d buckets, want at most 2", i, n)
		}
	}
}

// TestConcurrentTakes checks under -race that concurrent requests never
// spend a token twice: with the clock stopped, each key admits exactly its
// burst however many goroutines ask.
func TestConcurrentTakes(t *testing.T) {
	const keys, burst, workers, each = 64, 50, 16, 400
	h, _ := limiter(t, Config{PerSecond: 1, Burst: ptr(burst), MaxKeys: 100000})
	var admitted [keys]atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				k := (w + i) % keys
				r := &plugins.Request{Client: netip.AddrFrom4([4]byte{10, 0, 0, byte(k)})}
				switch err := h.HandleRequest(context.Background(), r); err.(type) {
				case nil:
					admitted[k].Add(1)
				case *plugins.Reject:
				default:
					t.Errorf("got error %v, want nil or a *plugins.Reject", err)
				}
			}
		})
	}
	wg.Wait()
	for k := range admitted {
		if got := admitted[k].Load(); got != burst {
			t.Errorf("key %d: got %d admitted, want %d", k, got, burst)
		}
	}
}
