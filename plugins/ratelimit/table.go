package ratelimit

import (
	"encoding/binary"
	"math/bits"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// table holds the buckets of a limit, at most a fixed number, in LRU caches
// split into shards by the key's hash. Each shard's one mutex guards both
// its cache and its buckets, so a request takes one lock, and requests for
// keys in different shards never wait on each other. The split makes the
// eviction order least recently used within a shard rather than overall; a
// shard holds thousands of keys, so the difference does not show.
type table struct {
	shards []shard
	mask   uint64
}

// shard is one lock and the cache it guards, padded to a cache line so that
// neighbouring shards' locks do not contend through false sharing.
type shard struct {
	mu  sync.Mutex
	lru *simplelru.LRU[key, *bucket]
	_   [64 - 16]byte
}

// Sharding stops at maxShards, which is past the point where contention
// shows on common core counts, and keeps at least minPerShard keys in each
// shard, so that small tables stay one exact LRU.
const (
	maxShards   = 16
	minPerShard = 1024
)

// newTable returns a table that holds at most size buckets.
func newTable(size int) *table {
	n := 1
	for n < maxShards && size/(2*n) >= minPerShard {
		n *= 2
	}
	t := &table{shards: make([]shard, n), mask: uint64(n - 1)}
	for i := range t.shards {
		// The first size%n shards take one more, so the sizes add up to
		// size exactly.
		each := size / n
		if i < size%n {
			each++
		}
		// NewLRU fails only for a size below 1, which newTable's callers
		// have refused.
		t.shards[i].lru, _ = simplelru.NewLRU[key, *bucket](each, nil)
	}
	return t
}

// take takes a token from k's bucket at now, creating the bucket full if k
// is new or was dropped, and returns what bucket.take returns.
func (t *table) take(k key, r *rate, now int64) int64 {
	s := &t.shards[k.hash()&t.mask]
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.lru.Get(k)
	if !ok {
		nb := full(r, now)
		b = &nb
		s.lru.Add(k, b)
	}
	return b.take(r, now)
}

// len returns the number of buckets held.
func (t *table) len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += s.lru.Len()
		s.mu.Unlock()
	}
	return n
}

// hash mixes a key's bits for choosing a shard (the finaliser of
// SplitMix64). Hashed keys are already uniform; addresses are not, since
// clients crowd into a few networks.
func (k key) hash() uint64 {
	a := k.addr.As16()
	x := binary.LittleEndian.Uint64(a[:8]) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(a[8:]), 29) ^ k.sum
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
