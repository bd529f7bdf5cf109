package upstream

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
)

// TestRingHashStability removes one of five endpoints: keys that were not
// on it keep their endpoint, and the moved share is about a fifth.
func TestRingHashStability(t *testing.T) {
	const keys = 10000
	before := testSet(true, 1, 1, 1, 1, 1)
	removed := before.all[2]
	kept := append(append([]*endpoint{}, before.all[:2]...), before.all[3:]...)
	after := newSet(kept, true)
	moved, changed := 0, 0
	for i := range keys {
		h := hashString("user-" + strconv.Itoa(i))
		b, a := before.ringPick(h, nil), after.ringPick(h, nil)
		switch {
		case b == removed:
			moved++
		case a != b:
			changed++
		}
	}
	if changed != 0 {
		t.Errorf("got %d keys moved between remaining endpoints, want 0", changed)
	}
	if share := float64(moved) / keys; share < 0.15 || share > 0.25 {
		t.Errorf("got %.3f of keys on the removed endpoint, want about 0.2", share)
	}
}

// TestRingHashShares checks that a weighted ring gives each endpoint about
// its weight's share of keys.
func TestRingHashShares(t *testing.T) {
	s := testSet(true, 1, 3)
	counts := map[*endpoint]int{}
	for i := range 10000 {
		counts[s.ringPick(hashString("k"+strconv.Itoa(i)), nil)]++
	}
	if got := float64(counts[s.all[1]]) / 10000; got < 0.68 || got > 0.82 {
		t.Errorf("got %.3f of keys on the weight-3 endpoint, want about 0.75", got)
	}
}

func TestRingHashWalksPastIneligible(t *testing.T) {
	s := testSet(true, 1, 1, 1)
	h := hashString("some-key")
	first := s.ringPick(h, nil)
	first.ejected.Store(true)
	second := s.ringPick(h, nil)
	if second == nil || second == first {
		t.Fatalf("got %v, want another endpoint", second)
	}
	if again := s.ringPick(h, []*endpoint{second}); again == second || again == first || again == nil {
		t.Errorf("got %v for a retry, want the third endpoint", again)
	}
	first.ejected.Store(false)
	if got := s.ringPick(h, nil); got != first {
		t.Errorf("got %v after the ejection ended, want the first endpoint back", got)
	}
}

// TestRingHashKeys sends requests through a pool that hashes a header, a
// cookie and the client address: a key always reaches the same backend.
func TestRingHashKeys(t *testing.T) {
	var eps []string
	for i := range 3 {
		b := newBackend(t, "b"+strconv.Itoa(i), nil)
		eps = append(eps, strconv.Quote(b.addr))
	}
	tests := []struct {
		name string
		hash string
		set  func(r *http.Request, key string, a *Attempt)
	}{
		{"header", "{ header: x-user }", func(r *http.Request, k string, _ *Attempt) { r.Header.Set("X-User", k) }},
		{"cookie", "{ cookie: session }", func(r *http.Request, k string, _ *Attempt) {
			r.Header.Add("Cookie", "theme=dark; session="+k+"; other=1")
		}},
		{"client ip", "{ client_ip: true }", func(r *http.Request, k string, a *Attempt) { a.HashKey = func() string { return k } }},
		{"remote addr", "{ client_ip: true }", func(r *http.Request, k string, _ *Attempt) { r.RemoteAddr = k + ":5555" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(t, spec(t, fmt.Sprintf("endpoints: [%s]\nbalancer: ring_hash\nhash: %s", joinComma(eps), tt.hash)), Options{})
			seen := map[string]map[string]bool{}
			for round := range 3 {
				for k := range 30 {
					key := "10.1.0." + strconv.Itoa(k)
					req, _ := http.NewRequest(http.MethodGet, "http://up.test/", nil)
					a := &Attempt{}
					tt.set(req, key, a)
					_, body, err := finishRequest(p, req, a)
					if err != nil {
						t.Fatal(err)
					}
					if seen[key] == nil {
						seen[key] = map[string]bool{}
					}
					seen[key][body] = true
					if len(seen[key]) != 1 {
						t.Fatalf("round %d: key %s reached %v, want one backend", round, key, seen[key])
					}
				}
			}
			used := map[string]bool{}
			for _, m := range seen {
				for b := range m {
					used[b] = true
				}
			}
			if len(used) < 2 {
				t.Errorf("got 30 keys on %d backends, want them spread", len(used))
			}
		})
	}
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}
