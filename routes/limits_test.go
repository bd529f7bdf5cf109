package routes

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// manyRoutes writes a routes file of n routes over ten upstreams, in the
// block style people write, with no aliases.
func manyRoutes(n int) []byte {
	var b strings.Builder
	b.WriteString("listeners: [ { name: web, address: \"127.0.0.1:0\" } ]\nvirtual_hosts:\n  - name: all\n    hosts: [\"*\"]\n    routes:\n")
	for i := range n {
		fmt.Fprintf(&b, "      - name: route-%d\n        match: { path_prefix: /svc-%d/, methods: [GET, POST] }\n"+
			"        upstream: up-%d\n        timeout: 5s\n", i, i, i%10)
	}
	b.WriteString("upstreams:\n")
	for i := range 10 {
		fmt.Fprintf(&b, "  - { name: up-%d, endpoints: [\"127.0.0.1:%d\"] }\n", i, 9000+i)
	}
	return []byte(b.String())
}

// measure runs f and returns its duration, the bytes it allocated and the
// largest live heap seen by a sampler while it ran.
func measure(f func()) (time.Duration, uint64, uint64) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := before.HeapAlloc
	done := make(chan struct{})
	sampled := make(chan uint64)
	go func() {
		var m runtime.MemStats
		p := uint64(0)
		for {
			runtime.ReadMemStats(&m)
			p = max(p, m.HeapAlloc)
			select {
			case <-done:
				sampled <- p
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	f()
	took := time.Since(start)
	close(done)
	peak = max(peak, <-sampled)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return took, after.TotalAlloc - before.TotalAlloc, peak - before.HeapAlloc
}

// TestLoadTwentyThousandRoutes loads a file of 20,000 routes with no
// aliases: only alias expansions count toward the alias bound.
func TestLoadTwentyThousandRoutes(t *testing.T) {
	data := manyRoutes(20_000)
	path := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var cfg *Config
	var err error
	took, alloc, peak := measure(func() { cfg, err = Load(path, nil) })
	if err != nil {
		t.Fatalf("got error %.300v, want the file to load", err)
	}
	defer cfg.Close()
	if got := len(cfg.File.VirtualHosts[0].Routes); got != 20_000 {
		t.Errorf("got %d routes, want 20000", got)
	}
	t.Logf("%d bytes, about %d values: loaded in %v, %d MiB allocated, live heap grew by at most %d MiB",
		len(data), estimateValues(data), took, alloc>>20, peak>>20)
}

// TestLoadRefusesLargeFile refuses a file past MaxFileBytes from its size,
// naming the file, without reading it: the file is sparse, 64 MiB
// long, and loading it allocates next to nothing.
func TestLoadRefusesLargeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var lerr error
	_, alloc, _ := measure(func() { _, lerr = Load(path, nil) })
	want := path + ": the file is 67108864 bytes, larger than 16777216 (16 MiB), the most a routes file may hold"
	if lerr == nil || lerr.Error() != want {
		t.Errorf("got %v, want %s", lerr, want)
	}
	if alloc > 1<<20 {
		t.Errorf("refusing the file allocated %d bytes, want under 1 MiB", alloc)
	}
	if _, err := Parse("big.yaml", make([]byte, MaxFileBytes+1), nil); err == nil || !strings.Contains(err.Error(), "big.yaml: the file is 16777217 bytes") {
		t.Errorf("Parse: got %v, want the size refused", err)
	}
}

// tinyValues is a file of n tiny values in a list under an ignored x- key.
func tinyValues(n int, sep string) []byte {
	return []byte("x-filler: [" + strings.Repeat("1"+sep, n) + "1]\nlisteners: [ { name: web, address: \"127.0.0.1:0\" } ]\n")
}

// TestLoadBoundsTinyValues: a file within the size bound that holds many
// tiny values is refused before yaml.v3 builds its tree, and one just
// under MaxFileValues loads with the tree bounded.
func TestLoadBoundsTinyValues(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		refused bool
	}{
		{"two million under an x- key", tinyValues(2_000_000, ","), true},
		{"explicit empty keys", []byte("x-filler:\n" + strings.Repeat("  ? \n", 600_000)), true},
		{"just under the bound", tinyValues(MaxFileValues/2-20, ","), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			took, alloc, peak := measure(func() { _, err = Parse("routes.yaml", tt.data, nil) })
			t.Logf("%d bytes: %v, %d MiB allocated, live heap grew by at most %d MiB", len(tt.data), took, alloc>>20, peak>>20)
			if tt.refused {
				if err == nil || !strings.Contains(err.Error(), "routes.yaml: the file holds up to") {
					t.Fatalf("got %.300v, want the file refused for its values", err)
				}
				if alloc > 1<<20 {
					t.Errorf("refusing the file allocated %d bytes, want under 1 MiB", alloc)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %.300v, want it loaded", err)
			}
			// The bound: about 185 bytes a node; the tree is gone by now,
			// so allocation stands for it.
			if limit := uint64(MaxFileValues) * 400; alloc > limit {
				t.Errorf("allocated %d MiB, want under %d MiB", alloc>>20, limit>>20)
			}
		})
	}
}

// nodes counts the nodes of a yaml.v3 tree without following aliases.
func nodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += nodes(k)
	}
	return c
}

// FuzzEstimateValues checks that estimateValues is an upper bound on the
// nodes yaml.v3 builds of any input it parses: the bound that keeps the
// parser's memory in check must never be low.
func FuzzEstimateValues(f *testing.F) {
	for _, s := range []string{
		"a: b\n", "- \n- \n-\n", "? \n? \n?", "{a, b, c}", "[a: b, c: d]", `["a":1,"b":2]`, `{"a":}`,
		"a: |\n  \"\n  x\nb: [1,2]\n", "a: 'it''s # not'\nb: c # d\n", "&a x", "[*a, *a]", "a:\n  - - - \n",
		"a: x-y-z\nb: http://h:1/p\n", "? ? a\n", "-\u0085-\u0085-", "a:\u2028b:", "!!str a: !!null\n", "[]", "{}",
		"a: {? : , : }", "[? a, ? b : c]", "--- \n...\n", "a:\n\tb",
		"[ : 1, : 1, : 1, : 1 ]", "{ : 1, : 2, : 3 }", "a : 1\nb : 2", "&a: 1\n", "{\"a\": 1, \"b\":2}", "? a\n: b\n",
		"- a: 1\n- b: 2\n", "- - a: 1\n- - b: 1\n", "[a: 1, b: 2, c: 3]", "a: &x\nb: *x\n", "a: !!null\nb: # c\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4<<10 {
			// yaml.v3's parser is slow on some long inputs; the bound
			// is a property of the characters, found in short ones.
			return
		}
		var doc yaml.Node
		if yaml.Unmarshal([]byte(s), &doc) != nil {
			return
		}
		if got, est := nodes(&doc), estimateValues([]byte(s)); got > est {
			t.Fatalf("%q: yaml.v3 made %d nodes, estimate %d", s, got, est)
		}
	})
}
