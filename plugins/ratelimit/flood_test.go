package ratelimit

import (
	"context"
	"net/netip"
	"runtime"
	"sync"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
)

// heap returns the live heap after a full collection.
func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestFloodMemoryBounded sends a million distinct client addresses through
// one limit: the buckets held never pass max_keys, and the heap they leave
// stays within a bound.
func TestFloodMemoryBounded(t *testing.T) {
	const maxKeys, limit = 100000, 64 << 20
	flood := 1000000
	if testing.Short() {
		flood = 200000
	}
	h, _ := limiter(t, Config{PerSecond: 1, Burst: ptr(1), MaxKeys: maxKeys})
	before := heap()
	// The flood comes from one goroutine per core, as from many
	// connections, each with its own share of addresses from 10.0.0.0 up.
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			req := &plugins.Request{}
			for i := w; i < flood; i += workers {
				req.Client = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
				if err := h.HandleRequest(context.Background(), req); err != nil {
					t.Errorf("request %d: got %v, want a new key admitted", i, err)
					return
				}
				if i%1024 == 0 {
					if n := h.buckets.len(); n > maxKeys {
						t.Errorf("request %d: got %d buckets, want at most %d", i, n, maxKeys)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	after := heap()
	if n := h.buckets.len(); n != maxKeys {
		t.Errorf("got %d buckets after the flood, want %d", n, maxKeys)
	}
	grown := int64(after) - int64(before)
	t.Logf("%d distinct keys, %d held: heap %d KiB before, %d KiB after (%d bytes a key held)",
		flood, maxKeys, before>>10, after>>10, grown/maxKeys)
	if grown > limit {
		t.Errorf("got the heap grown by %d MiB, want at most %d MiB", grown>>20, limit>>20)
	}
	runtime.KeepAlive(h)
}
