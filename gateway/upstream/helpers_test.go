package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/routes"
)

// load parses a routes file made of the given route entries and upstream
// entries through the real loader, so that the pools under test get the
// defaults a running gateway gets.
func load(t testing.TB, routeEntries, upstreams string) *routes.Config {
	t.Helper()
	if routeEntries == "" {
		routeEntries = "{ name: r, upstream: up }"
	}
	data := fmt.Sprintf("listeners: [{ name: l, address: \"127.0.0.1:0\" }]\n"+
		"virtual_hosts: [{ name: v, hosts: [\"*\"], routes: [%s] }]\n"+
		"upstreams:\n%s\n", routeEntries, upstreams)
	cfg, err := routes.Parse("test.yaml", []byte(data), nil)
	if err != nil {
		t.Fatalf("routes file:\n%s\n%v", data, err)
	}
	return cfg
}

// spec returns the definition of the upstream "up" written as YAML
// mapping entries, indented under "- name: up".
func spec(t testing.TB, body string) *routes.UpstreamSpec {
	t.Helper()
	return load(t, "", "  - name: up\n"+indent(body)).Upstreams["up"]
}

// policy returns the retry policy written as a YAML flow mapping.
func policy(t testing.TB, retries string) *routes.RetryPolicy {
	t.Helper()
	cfg := load(t, "{ name: r, upstream: up, retries: "+retries+" }", "  - { name: up, endpoints: [\"127.0.0.1:9\"] }")
	return cfg.File.VirtualHosts[0].Routes[0].Retries
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = "    " + strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}

// newPool builds and starts a pool that the test closes.
func newPool(t testing.TB, s *routes.UpstreamSpec, opts Options) *Pool {
	t.Helper()
	p, err := New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	p.Start()
	return p
}

// eventually retries f until it returns nil or twenty seconds pass, for
// state that changes in the pool's goroutines: long enough for a loaded
// machine. It asserts no duration.
func eventually(f func() error) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get sends one request through p and returns the status and body, or the
// error.
func get(t testing.TB, p *Pool, a *Attempt) (int, string, error) {
	t.Helper()
	return send(t, p, http.MethodGet, nil, a)
}

func send(t testing.TB, p *Pool, method string, body io.Reader, a *Attempt) (int, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, "http://up.test/path", body)
	if err != nil {
		t.Fatal(err)
	}
	req.GetBody = nil // the proxy's outgoing request has none
	return finishRequest(p, req, a)
}

func finishRequest(p *Pool, req *http.Request, a *Attempt) (int, string, error) {
	resp, err := p.RoundTrip(req, a)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// upstreamError returns err as an *Error, failing the test otherwise.
func upstreamError(t testing.TB, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want *Error", err, err)
	}
	return e
}

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu       sync.Mutex
	health   map[string]bool
	removed  []string
	ejected  int
	retries  map[string]int
	overflow int
	active   int
	resolve  map[string]int
}

func newRecorder() *recorder {
	return &recorder{health: map[string]bool{}, retries: map[string]int{}, resolve: map[string]int{}}
}

func (r *recorder) EndpointHealth(ep string, ok bool) { r.mu.Lock(); r.health[ep] = ok; r.mu.Unlock() }
func (r *recorder) EndpointRemoved(ep string) {
	r.mu.Lock()
	delete(r.health, ep)
	r.removed = append(r.removed, ep)
	r.mu.Unlock()
}
func (r *recorder) Ejected()            { r.mu.Lock(); r.ejected++; r.mu.Unlock() }
func (r *recorder) Retry(result string) { r.mu.Lock(); r.retries[result]++; r.mu.Unlock() }
func (r *recorder) Overflow()           { r.mu.Lock(); r.overflow++; r.mu.Unlock() }
func (r *recorder) Active(d int)        { r.mu.Lock(); r.active += d; r.mu.Unlock() }
func (r *recorder) ResolveError(reason string) {
	r.mu.Lock()
	r.resolve[reason]++
	r.mu.Unlock()
}

// resolveErrors returns how many failed lookups were reported for reason.
func (r *recorder) resolveErrors(reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.resolve[reason]
}

// events is what a recorder was told, at one moment.
type events struct {
	health   map[string]bool
	removed  []string
	ejected  int
	retries  map[string]int
	overflow int
	active   int
}

func (r *recorder) snapshot() events {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := events{ejected: r.ejected, overflow: r.overflow, active: r.active,
		health: map[string]bool{}, retries: map[string]int{}}
	for k, v := range r.health {
		c.health[k] = v
	}
	for k, v := range r.retries {
		c.retries[k] = v
	}
	c.removed = append(c.removed, r.removed...)
	return c
}

// resolver is a Resolver whose answers the test sets. A name without an
// answer does not exist; a name mapped to nil fails as a server error.
type resolver struct {
	mu      sync.Mutex
	answers map[string][]netip.Addr
	lookups atomic.Int64
}

func (r *resolver) set(name string, ips ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.answers == nil {
		r.answers = map[string][]netip.Addr{}
	}
	if ips == nil {
		delete(r.answers, name)
		return
	}
	addrs := []netip.Addr{}
	for _, ip := range ips {
		if ip != "" {
			addrs = append(addrs, netip.MustParseAddr(ip))
		}
	}
	r.answers[name] = addrs
}

// fail makes lookups of name fail with a server error.
func (r *resolver) fail(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[name] = nil
}

func (r *resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.lookups.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	ips, ok := r.answers[host]
	switch {
	case !ok:
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	case ips == nil:
		return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
	}
	return ips, nil
}

// addresses returns the pool's endpoint addresses now.
func endpointsOf(p *Pool) []string {
	var out []string
	for _, e := range p.Status().Endpoints {
		out = append(out, e.Address)
	}
	return out
}
