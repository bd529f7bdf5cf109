package egress

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitUntil polls cond until it holds, failing the test after a generous
// deadline.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testClock is a clock the test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestResolver(t *testing.T, srv *dnsServer, cfg ResolverConfig) (*Resolver, *testClock) {
	t.Helper()
	cfg.Server = srv.addr
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	r, err := NewResolver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Unix(1_000_000, 0)}
	r.now = clock.now
	return r, clock
}

func addrStrings(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, " ")
}

func TestResolverAnswers(t *testing.T) {
	srv := startDNS(t, map[string]*dnsName{
		"both.test":      {addrs: []string{"2001:db8::1", "192.0.2.1", "192.0.2.2", "192.0.2.1"}, ttl: 60},
		"alias.test":     {cname: "target.test", ttl: 60},
		"target.test":    {addrs: []string{"192.0.2.9"}, ttl: 60},
		"big.test":       {addrs: []string{"192.0.2.3"}, truncate: true, ttl: 60},
		"junk.test":      {addrs: []string{"192.0.2.4"}, junkFirst: true, ttl: 60},
		"poisoned.test":  {addrs: []string{"192.0.2.5"}, extra: true, ttl: 60},
		"mapped.test":    {addrs: []string{"::ffff:127.0.0.1"}, ttl: 60},
		"upper.test":     {addrs: []string{"192.0.2.6"}, ttl: 60},
		"nat64only.test": {addrs: []string{"64:ff9b::7f00:1"}, ttl: 60},
		"v4only.test":    {addrs: []string{"192.0.2.7", "2001:db8::7"}, ttl: 60, servfail6: true},
	})
	r, _ := newTestResolver(t, srv, ResolverConfig{})
	tests := []struct {
		name, want string
	}{
		{"both.test", "192.0.2.1 192.0.2.2 2001:db8::1"},
		{"alias.test", "192.0.2.9"},
		{"big.test", "192.0.2.3"},
		{"junk.test", "192.0.2.4"},
		{"poisoned.test", "192.0.2.5"},
		{"mapped.test", "::ffff:127.0.0.1"},
		{"nat64only.test", "64:ff9b::7f00:1"},
		{"v4only.test", "192.0.2.7"}, // AAAA failed: the A answer stands alone
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addrs, err := r.Lookup(context.Background(), tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if got := addrStrings(addrs); got != tt.want {
				t.Errorf("Lookup(%s) = %s, want %s", tt.name, got, tt.want)
			}
		})
	}
	if n := srv.count("tcp big.test. TypeA"); n != 1 {
		t.Errorf("big.test was asked over TCP %d times, want 1 after the truncated answer", n)
	}
	if n := srv.count("tcp both.test. TypeA"); n != 0 {
		t.Errorf("both.test was asked over TCP %d times, want 0", n)
	}
}

// TestResolverBoundsAnswer keeps the first maxAddrsPerType addresses of
// each family from an answer that holds hundreds, so that a server cannot
// fill the cache, the verdicts of a dial or the connect attempts with one
// name's answer.
func TestResolverBoundsAnswer(t *testing.T) {
	var many []string
	for i := range 300 {
		many = append(many, fmt.Sprintf("198.%d.%d.1", 18+i/256, i%256), fmt.Sprintf("2001:db8::%x", i+1))
	}
	srv := startDNS(t, map[string]*dnsName{"many.test": {addrs: many, ttl: 60}})
	r, _ := newTestResolver(t, srv, ResolverConfig{})
	addrs, err := r.Lookup(context.Background(), "many.test")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range maxAddrsPerType {
		want = append(want, fmt.Sprintf("198.%d.%d.1", 18+i/256, i%256))
	}
	for i := range maxAddrsPerType {
		want = append(want, fmt.Sprintf("2001:db8::%x", i+1))
	}
	if got := addrStrings(addrs); got != strings.Join(want, " ") {
		t.Errorf("got %d addresses %s, want the first %d of each family", len(addrs), got, maxAddrsPerType)
	}
}

func TestResolverErrors(t *testing.T) {
	srv := startDNS(t, map[string]*dnsName{
		"nodata.test":   {soaTTL: 30},
		"servfail.test": {rcode: 2},
		"refused.test":  {rcode: 5},
		"silent.test":   {silent: true, addrs: []string{"192.0.2.1"}},
		"loop.test":     {cname: "loop.test"},
	})
	r, _ := newTestResolver(t, srv, ResolverConfig{})
	// Only the silent name waits for the timeout, so the others keep a
	// generous one on a loaded machine.
	hurried, _ := newTestResolver(t, srv, ResolverConfig{Timeout: 300 * time.Millisecond})
	tests := []struct {
		name string
		want error
		text string
	}{
		{"missing.test", ErrNXDomain, `resolve "missing.test": no such host (NXDOMAIN)`},
		{"nodata.test", ErrNoData, `resolve "nodata.test": no A or AAAA records`},
		{"servfail.test", ErrServFail, "RCodeServerFailure"},
		{"refused.test", ErrServFail, "RCodeRefused"},
		{"silent.test", ErrDNSTimeout, `resolve "silent.test": TypeA 127.0.0.1`},
		{"loop.test", ErrNoData, "no A or AAAA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := r.Lookup
			if tt.name == "silent.test" {
				lookup = hurried.Lookup
			}
			addrs, err := lookup(context.Background(), tt.name)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Lookup(%s) = %v, %v; want an error wrapping %v saying %q", tt.name, addrs, err, tt.want, tt.text)
			}
		})
	}
	waitUntil(t, "the server to see silent.test's retry", func() bool { return srv.count("silent.test. TypeA") >= 2 })
	if n := srv.count("silent.test. TypeA"); n != 2 {
		t.Errorf("silent.test was asked %d times over UDP, want 2 (one retry)", n)
	}
}

func TestResolverCache(t *testing.T) {
	srv := startDNS(t, map[string]*dnsName{
		"long.test":     {addrs: []string{"192.0.2.1"}, ttl: 3600},
		"short.test":    {addrs: []string{"192.0.2.2"}, ttl: 20},
		"zero.test":     {addrs: []string{"192.0.2.3"}, ttl: 0},
		"nodata.test":   {soaTTL: 15},
		"neglong.test":  {soaTTL: 3600, rcode: 3},
		"servfail.test": {rcode: 2},
		"msb.test":      {addrs: []string{"192.0.2.4"}, ttl: 1 << 31},
		"msbneg.test":   {soaTTL: 1<<32 - 1, rcode: 3},
	})
	r, clock := newTestResolver(t, srv, ResolverConfig{MinTTL: 5 * time.Second, MaxTTL: time.Minute, NegativeTTL: 30 * time.Second})
	tests := []struct {
		name string
		kept time.Duration // how long the answer stands; 0: never kept
	}{
		{"long.test", time.Minute},         // clamped to MaxTTL
		{"short.test", 20 * time.Second},   // the record's own TTL
		{"zero.test", 5 * time.Second},     // raised to MinTTL
		{"nodata.test", 15 * time.Second},  // the SOA's minimum
		{"neglong.test", 30 * time.Second}, // clamped to NegativeTTL
		{"servfail.test", 0},               // failures are not kept
		{"missing.test", 5 * time.Second},  // NXDOMAIN without SOA: MinTTL
		{"msb.test", 5 * time.Second},      // a TTL with its top bit set is 0 (RFC 2181 section 8)
		{"msbneg.test", 5 * time.Second},   // so is an SOA minimum with its top bit set
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tt.name + ". TypeA"
			first, err1 := r.Lookup(ctx, tt.name)
			start := srv.count(key)
			if tt.kept == 0 {
				r.Lookup(ctx, tt.name)
				if n := srv.count(key); n != start+1 {
					t.Errorf("%s asked %d times after a second lookup, want %d", tt.name, n, start+1)
				}
				return
			}
			clock.advance(tt.kept - time.Second)
			again, err2 := r.Lookup(ctx, tt.name)
			if n := srv.count(key); n != start {
				t.Errorf("%s asked again %s after the first lookup, want it kept %s", tt.name, tt.kept-time.Second, tt.kept)
			}
			if !slices.Equal(first, again) || (err1 == nil) != (err2 == nil) {
				t.Errorf("%s from the cache = %v, %v; want %v, %v", tt.name, again, err2, first, err1)
			}
			clock.advance(time.Second)
			r.Lookup(ctx, tt.name)
			if n := srv.count(key); n != start+1 {
				t.Errorf("%s asked %d times after %s, want %d", tt.name, n, tt.kept, start+1)
			}
		})
	}
}

func TestResolverCacheBounded(t *testing.T) {
	srv := startDNS(t, map[string]*dnsName{
		"a.test": {addrs: []string{"192.0.2.1"}, ttl: 60},
		"b.test": {addrs: []string{"192.0.2.2"}, ttl: 60},
		"c.test": {addrs: []string{"192.0.2.3"}, ttl: 60},
	})
	r, _ := newTestResolver(t, srv, ResolverConfig{Size: 2})
	ctx := context.Background()
	for _, n := range []string{"a.test", "b.test", "c.test", "a.test"} {
		if _, err := r.Lookup(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.cache.Len(); got != 2 {
		t.Errorf("cache holds %d names, want 2", got)
	}
	if n := srv.count("a.test. TypeA"); n != 2 {
		t.Errorf("a.test asked %d times, want 2: the third name pushed it out", n)
	}
}

// TestResolverCoalesces holds the server's answer until eight lookups of
// one name wait on it, then checks that one query served them all.
func TestResolverCoalesces(t *testing.T) {
	gate := make(chan struct{})
	srv := startDNS(t, map[string]*dnsName{"slow.test": {addrs: []string{"192.0.2.1"}, ttl: 60, gate: gate}})
	r, _ := newTestResolver(t, srv, ResolverConfig{})
	const callers = 8
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			addrs, err := r.Lookup(context.Background(), "slow.test")
			if err == nil && addrStrings(addrs) != "192.0.2.1" {
				err = errors.New("wrong answer " + addrStrings(addrs))
			}
			errs <- err
		})
	}
	waitUntil(t, "every caller waiting in Lookup", func() bool {
		return waitingIn("egress.(*Resolver).Lookup") == callers
	})
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := srv.count("slow.test. TypeA"); n != 1 {
		t.Errorf("slow.test asked %d times for %d callers, want 1", n, callers)
	}
}

// waitingIn counts the goroutines blocked in a select inside fn.
func waitingIn(fn string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "[select") && strings.Contains(g, fn+"(") {
			n++
		}
	}
	return n
}

func TestResolverCallerGivesUp(t *testing.T) {
	gate := make(chan struct{})
	srv := startDNS(t, map[string]*dnsName{"slow.test": {addrs: []string{"192.0.2.1"}, ttl: 60, gate: gate}})
	r, _ := newTestResolver(t, srv, ResolverConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Lookup(ctx, "slow.test"); !errors.Is(err, context.Canceled) {
		t.Errorf("Lookup with a cancelled context: %v, want context.Canceled", err)
	}
	close(gate)
	waitUntil(t, "the shared query to finish and fill the cache", func() bool { return r.cache.Len() == 1 })
}

func TestNameserverFromFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, text, want, err string
	}{
		{"first", "# comment\nsearch example.com\nnameserver 127.0.0.53\nnameserver 192.0.2.1\n", "127.0.0.53:53", ""},
		{"ipv6", "options edns0\nnameserver fe80::1%eth0\n", "[fe80::1%eth0]:53", ""},
		{"none", "search example.com\n", "", "names no nameserver"},
		{"bad", "nameserver\nnameserver not-an-ip\n", "", `resolv.conf:2: nameserver "not-an-ip"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name, "resolv.conf")
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := nameserverFromFile(path)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("nameserverFromFile = %v, %v; want an error saying %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Errorf("nameserverFromFile = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
	if _, err := nameserverFromFile(filepath.Join(dir, "absent")); err == nil {
		t.Error("nameserverFromFile of a missing file: no error")
	}
}

func TestNewResolverRefuses(t *testing.T) {
	server := netip.MustParseAddrPort("127.0.0.1:53")
	for _, cfg := range []ResolverConfig{
		{Server: netip.MustParseAddrPort("127.0.0.1:0")},
		{Server: server, MinTTL: time.Hour, MaxTTL: time.Minute},
	} {
		if _, err := NewResolver(cfg); err == nil {
			t.Errorf("NewResolver(%+v): no error", cfg)
		}
	}
}

// TestResolverCanonicalNames: a lookup puts the name in canonical form, so
// spellings of one name share one cache entry, an IP literal is never
// asked of the server, and an invalid host is refused before any query.
func TestResolverCanonicalNames(t *testing.T) {
	srv := startDNS(t, map[string]*dnsName{"svc.test": {addrs: []string{"192.0.2.1"}, ttl: 60}})
	r, _ := newTestResolver(t, srv, ResolverConfig{})
	ctx := context.Background()
	for _, name := range []string{"svc.test", "SVC.Test.", "ｓｖｃ.test"} {
		if addrs, err := r.Lookup(ctx, name); err != nil || addrStrings(addrs) != "192.0.2.1" {
			t.Errorf("Lookup(%q) = %v, %v; want 192.0.2.1", name, addrs, err)
		}
	}
	if n := srv.count("svc.test. TypeA"); n != 1 {
		t.Errorf("svc.test asked %d times for three spellings, want 1", n)
	}
	for _, lit := range []string{"2130706433", "127.0.0.1.", "[::1]"} {
		addrs, err := r.Lookup(ctx, lit)
		if err != nil || len(addrs) != 1 || !addrs[0].IsLoopback() {
			t.Errorf("Lookup(%q) = %v, %v; want its loopback address", lit, addrs, err)
		}
	}
	if _, err := r.Lookup(ctx, "0177.0.0.1"); !errors.Is(err, ErrInvalidHost) {
		t.Errorf("Lookup(0177.0.0.1) error %v, want ErrInvalidHost", err)
	}
	srv.mu.Lock()
	asked := len(srv.asked)
	srv.mu.Unlock()
	if asked != 2 {
		t.Errorf("the server was asked %d kinds of question, want 2 (svc.test A and AAAA)", asked)
	}
}

// TestResolverDefaultServer: without a server the resolver asks the first
// nameserver of /etc/resolv.conf (it is only built here, never asked).
func TestResolverDefaultServer(t *testing.T) {
	want, wantErr := nameserverFromFile(resolvConfPath)
	r, err := NewResolver(ResolverConfig{})
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("NewResolver() error %v, want one like %v", err, wantErr)
	}
	if err == nil && r.Server() != want {
		t.Errorf("Server() = %s, want %s from %s", r.Server(), want, resolvConfPath)
	}
}
