package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// logLines keeps a logger's JSON lines.
type logLines struct {
	mu    sync.Mutex
	lines []map[string]any
}

func (l *logLines) Write(p []byte) (int, error) {
	var m map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(p), &m); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, m)
	return len(p), nil
}

// about returns the lines about the endpoint name with the given message
// prefix.
func (l *logLines) about(name, msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, m := range l.lines {
		if m["name"] == name && strings.HasPrefix(fmt.Sprint(m["message"]), msg) {
			out = append(out, m)
		}
	}
	return out
}

// nameOf returns the status of the endpoint name written as name.
func nameOf(t *testing.T, p *Pool, name string) NameStatus {
	t.Helper()
	for _, n := range p.Status().Names {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no name %s in %+v", name, p.Status().Names)
	return NameStatus{}
}

// TestResolveErrorsVisible makes one name not exist and another's lookups
// fail: each failed lookup is counted by reason, /upstreams shows each
// name's error, the warnings about a name come at most once per logEvery
// and count the lookups since the last one, and a name that resolves again
// says so.
func TestResolveErrorsVisible(t *testing.T) {
	res := &resolver{}
	res.set("ok.test", "127.0.0.1")
	res.set("flaky.test", "127.0.0.2")
	rec := newRecorder()
	logs := &logLines{}
	p, err := New(spec(t, `endpoints: ["ok.test:80", "gone.test:80", "flaky.test:80", "127.0.0.9:80"]
		dns_refresh: 100ms`), Options{Resolver: res, Observer: rec, Log: zerolog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	p.logEvery = time.Second
	start := time.Now()
	p.Start()
	waitFor(t, "flaky.test resolved", func() bool { return nameOf(t, p, "flaky.test:80").Addresses == 1 })
	res.fail("flaky.test")

	// Two warnings about gone.test: the second is a logEvery after the
	// first and counts the failed lookups in between.
	waitFor(t, "a second warning about gone.test", func() bool {
		return len(logs.about("gone.test:80", "upstream name does not resolve")) >= 2
	})
	waitFor(t, "flaky.test failing", func() bool { return nameOf(t, p, "flaky.test:80").Failures >= 2 })
	elapsed := time.Since(start)

	gone := nameOf(t, p, "gone.test:80")
	if !strings.Contains(gone.Error, "no such host") || gone.Addresses != 0 || gone.Failures < 2 ||
		gone.FailingSince == nil || gone.LastLookup == nil {
		t.Errorf("gone.test: got %+v, want its error, no address, failures and their start", gone)
	}
	flaky := nameOf(t, p, "flaky.test:80")
	if !strings.Contains(flaky.Error, "server misbehaving") || flaky.Addresses != 1 {
		t.Errorf("flaky.test: got %+v, want its error and its previous address kept", flaky)
	}
	if ok := nameOf(t, p, "ok.test:80"); ok.Error != "" || ok.Failures != 0 || ok.Addresses != 1 || ok.FailingSince != nil {
		t.Errorf("ok.test: got %+v, want resolved, one address", ok)
	}
	if got, want := endpointsOf(p), []string{"127.0.0.1:80", "127.0.0.2:80", "127.0.0.9:80"}; !slices.Equal(got, want) {
		t.Errorf("got endpoints %v, want %v: gone.test has none, flaky.test keeps its last", got, want)
	}
	if rec.resolveErrors(ResolveNotFound) < 2 || rec.resolveErrors(ResolveFailed) < 2 || rec.resolveErrors(ResolveTimeout) != 0 {
		t.Errorf("got not_found %d, error %d, timeout %d, want not_found and error counted",
			rec.resolveErrors(ResolveNotFound), rec.resolveErrors(ResolveFailed), rec.resolveErrors(ResolveTimeout))
	}

	warnings := logs.about("gone.test:80", "upstream name does not resolve")
	if max := int(elapsed/p.logEvery) + 1; len(warnings) > max {
		t.Errorf("got %d warnings about gone.test in %v, want at most %d", len(warnings), elapsed, max)
	}
	if first, second := warnings[0]["failed_lookups"], warnings[1]["failed_lookups"]; first != 1.0 || second.(float64) < 2 {
		t.Errorf("got failed_lookups %v then %v, want 1, then those since the first warning", first, second)
	}
	if w := logs.about("flaky.test:80", "upstream name lookup failed"); len(w) == 0 || w[0]["addresses_kept"] != 1.0 {
		t.Errorf("got warnings %v about flaky.test, want one that keeps its address", w)
	}

	res.set("gone.test", "127.0.0.3")
	waitFor(t, "gone.test resolving again", func() bool { return nameOf(t, p, "gone.test:80").Error == "" })
	if n := nameOf(t, p, "gone.test:80"); n.Failures != 0 || n.FailingSince != nil || n.Addresses != 1 {
		t.Errorf("gone.test: got %+v, want no failure and one address", n)
	}
	waitFor(t, "the line that gone.test resolves again", func() bool {
		return len(logs.about("gone.test:80", "upstream name resolves again")) == 1
	})
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if err := eventually(func() error {
		if !cond() {
			return fmt.Errorf("still waiting for %s", what)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestResolveReason sorts lookup errors into the metric's reasons.
func TestResolveReason(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nxdomain", &net.DNSError{Err: "no such host", Name: "a.test", IsNotFound: true}, ResolveNotFound},
		{"timeout", &net.DNSError{Err: "i/o timeout", Name: "a.test", IsTimeout: true}, ResolveTimeout},
		{"deadline", fmt.Errorf("lookup a.test: %w", context.DeadlineExceeded), ResolveTimeout},
		{"servfail", &net.DNSError{Err: "server misbehaving", Name: "a.test", IsTemporary: true}, ResolveFailed},
		{"other", errors.New("resolver gone"), ResolveFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolveReason(tt.err); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
