package egress

import (
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/routes"
)

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter()
	l.now = func() time.Time { return now }
	lim := routes.EgressLimits{
		PerCaller:      routes.TunnelLimits{MaxTunnels: 2, PerSecond: 1, Burst: 3},
		PerDestination: routes.TunnelLimits{MaxTunnels: 3},
	}
	steps := []struct {
		caller, dest, want string
	}{
		{"a", "x:443", ""},
		{"a", "x:443", ""},
		{"a", "y:443", CallerTunnels},
		{"b", "x:443", ""},
		{"c", "x:443", DestinationTunnels},
	}
	for i, s := range steps {
		if got := l.Acquire(s.caller, s.dest, lim); got != s.want {
			t.Fatalf("step %d: got %q, want %q", i, got, s.want)
		}
	}
	l.Release("a", "x:443")
	if got := l.Acquire("a", "y:443", lim); got != "" {
		t.Fatalf("after a release: got %q, want a place", got)
	}
	l.Release("a", "y:443")
	// a has used its burst of 3: the rate holds it until a token comes.
	if got := l.Acquire("a", "y:443", lim); got != CallerRate {
		t.Fatalf("got %q, want %q", got, CallerRate)
	}
	now = now.Add(time.Second)
	if got := l.Acquire("a", "y:443", lim); got != "" {
		t.Fatalf("a second later: got %q, want a place", got)
	}
}
