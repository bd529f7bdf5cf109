package report

import (
	"strings"
	"testing"
)

// TestEgressVerdicts judges the gateway's forward proxy: bytes through a
// tunnel against the backend reached directly (≥ 0.9×), new TLS tunnels
// against squid's (≥ 1×), and nothing when the other did not run.
func TestEgressVerdicts(t *testing.T) {
	tests := []struct {
		name, scenario, other string
		gw, base              float64 // req/s of each round
		otherSkipped          bool
		want, wantNote        string
	}{
		{"bytes at 0.9 of direct", "egress-bytes", "backend", 90, 100, false, Pass, "req/s 0.90× direct (≥ 0.9)"},
		{"bytes under 0.9 of direct", "egress-bytes", "backend", 89, 100, false, FallsShort, "req/s 0.89× direct"},
		{"tls tunnels at squid's", "egress-tls", "squid", 100, 100, false, Pass, "req/s 1.00× squid (≥ 1)"},
		{"tls tunnels under squid's", "egress-tls", "squid", 80, 100, false, FallsShort, "req/s 0.80× squid"},
		{"squid did not run", "egress-tls", "squid", 80, 100, true, NotJudged, "squid did not run"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			other := contender(tc.other, 1000, 1, 1<<20, tc.base, tc.base, tc.base)
			if tc.otherSkipped {
				other = &Contender{Name: tc.other, Skipped: "not installed"}
			}
			sc := &Scenario{Name: tc.scenario, Baseline: "squid", Contenders: []*Contender{
				contender(gateway, 500, 1, 1<<20, tc.gw, tc.gw, tc.gw), other,
			}}
			r := &Report{Method: Method{WidePct: 10}, Scenarios: []*Scenario{sc}}
			r.Finish()
			s := sc.find(gateway).Summary
			if s.Target != tc.want || !strings.Contains(s.TargetNote, tc.wantNote) {
				t.Errorf("got %q (%s), want %q with %q", s.Target, s.TargetNote, tc.want, tc.wantNote)
			}
		})
	}
}
