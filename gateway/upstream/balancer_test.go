package upstream

import (
	"fmt"
	"math"
	"net/http"
	"testing"
)

// testSet builds an endpoint set from weights, addresses 10.0.0.i:80 (the
// balancers never dial them).
func testSet(ring bool, weights ...int) *endpointSet {
	var all []*endpoint
	for i, w := range weights {
		all = append(all, newEndpoint(fmt.Sprintf("10.0.0.%d:80", i+1), "", w, nil))
	}
	return newSet(all, ring)
}

func TestRoundRobin(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		picks   int
		want    []int
	}{
		{"equal", []int{1, 1, 1}, 30, []int{10, 10, 10}},
		{"weighted", []int{3, 1}, 40, []int{30, 10}},
		{"weighted three", []int{5, 1, 1}, 70, []int{50, 10, 10}},
		{"one", []int{1}, 5, []int{5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSet(false, tt.weights...)
			counts := map[*endpoint]int{}
			for i := range tt.picks {
				counts[s.scan(uint64(i), nil, nil)]++
			}
			for i, e := range s.all {
				if counts[e] != tt.want[i] {
					t.Errorf("endpoint %d: got %d picks, want %d", i, counts[e], tt.want[i])
				}
			}
		})
	}
}

// TestSmoothSpread checks that weights 5, 1, 1 interleave rather than send
// five requests in a row to one endpoint.
func TestSmoothSpread(t *testing.T) {
	s := testSet(false, 5, 1, 1)
	var got string
	for _, e := range s.slots {
		got += e.addr[7:8]
	}
	if want := "1121311"; got != want {
		t.Errorf("got order %s, want %s", got, want)
	}
}

func TestScanSkipsIneligibleAndTried(t *testing.T) {
	s := testSet(false, 1, 1, 1)
	a, b, c := s.all[0], s.all[1], s.all[2]
	tests := []struct {
		name  string
		setup func()
		tried []*endpoint
		want  *endpoint
	}{
		{"first", func() {}, nil, a},
		{"tried moves on", func() {}, []*endpoint{a}, b},
		{"unhealthy skipped", func() { a.healthy.Store(false) }, nil, b},
		{"ejected skipped", func() { a.ejected.Store(true) }, nil, b},
		{"all tried falls back", func() {}, []*endpoint{a, b, c}, a},
		{"only tried eligible", func() { a.healthy.Store(false); c.ejected.Store(true) }, []*endpoint{b}, b},
		{"none eligible", func() { a.healthy.Store(false); b.healthy.Store(false); c.ejected.Store(true) }, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, e := range s.all {
				e.healthy.Store(true)
				e.ejected.Store(false)
			}
			tt.setup()
			if got := s.scan(0, tt.tried, nil); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLeastRequestWeights draws with a fixed seed from an idle pool: the
// shares follow the weights.
func TestLeastRequestWeights(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
	}{
		{"equal", []int{1, 1}},
		{"three to one", []int{3, 1}},
		{"mixed", []int{1, 2, 5}},
	}
	const picks = 20000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSet(false, tt.weights...)
			var rnd random
			rnd.state.Store(42)
			counts := map[*endpoint]int{}
			for range picks {
				counts[s.leastRequest(&rnd, nil)]++
			}
			total := 0
			for _, w := range tt.weights {
				total += w
			}
			for i, e := range s.all {
				want := float64(picks*tt.weights[i]) / float64(total)
				if got := float64(counts[e]); math.Abs(got-want) > 0.03*picks {
					t.Errorf("endpoint %d (weight %d): got %.0f picks, want %.0f ± 3%%", i, tt.weights[i], got, want)
				}
			}
		})
	}
}

// TestLeastRequestLoad checks that the less loaded endpoint for its weight
// wins.
func TestLeastRequestLoad(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		active  []int64
		want    int // index of the endpoint every pick must return
	}{
		{"idle beats busy", []int{1, 1}, []int64{5, 0}, 1},
		{"fewer wins", []int{1, 1}, []int64{2, 3}, 0},
		{"weight scales load", []int{4, 1}, []int64{3, 1}, 0},
		{"weight not enough", []int{2, 1}, []int64{3, 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSet(false, tt.weights...)
			for i, n := range tt.active {
				s.all[i].active.Store(n)
			}
			var rnd random
			for range 200 {
				if got := s.leastRequest(&rnd, nil); got != s.all[tt.want] {
					t.Fatalf("got %s, want %s", got.addr, s.all[tt.want].addr)
				}
			}
		})
	}
}

// TestLeastRequestPool holds a request open on one real backend: the next
// requests all go to the other.
func TestLeastRequestPool(t *testing.T) {
	release := make(chan struct{})
	slow := newBackend(t, "slow", func(w http.ResponseWriter, r *http.Request, hit int64) {
		<-release
		w.Write([]byte("slow"))
	})
	fast := newBackend(t, "fast", nil)
	p := newPool(t, spec(t, fmt.Sprintf("endpoints: [%q, %q]\nbalancer: least_request", slow.addr, fast.addr)), Options{})
	// Each of these lands on fast or, when fast is no busier, on slow;
	// keep sending until one is held on slow.
	done := make(chan struct{}, 100)
	for i := 0; slow.hits.Load() < 1 && i < 100; i++ {
		go func() {
			get(t, p, nil)
			done <- struct{}{}
		}()
		eventually(func() error {
			if slow.hits.Load()+fast.hits.Load() < int64(i+1) {
				return fmt.Errorf("not arrived")
			}
			return nil
		})
	}
	if slow.hits.Load() != 1 {
		t.Fatalf("got %d requests held on slow, want 1", slow.hits.Load())
	}
	before := fast.hits.Load()
	for range 20 {
		if _, body, err := get(t, p, nil); err != nil || body != "fast" {
			t.Fatalf("got %q, %v, want fast", body, err)
		}
	}
	if got := fast.hits.Load() - before; got != 20 {
		t.Errorf("got %d requests on fast, want 20", got)
	}
	close(release)
}
