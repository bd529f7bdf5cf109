package report

import (
	"strings"
	"testing"
)

// TestWAFVerdicts judges the gateway in WAF scenarios against nginx with
// ModSecurity, the scenarios' baseline: the floor and target of each
// load, none for the attack, and none when the baseline did not run.
func TestWAFVerdicts(t *testing.T) {
	tests := []struct {
		name, scenario string
		gw, base       float64 // req/s of each round
		baseSkipped    bool
		want, wantNote string
	}{
		{"get under the floor", "waf-get-pl1", 150, 100, false, FallsShort, "req/s 1.50× nginx-modsec (floor ≥ 2, target ≥ 3)"},
		{"get past the floor", "waf-get-pl2", 250, 100, false, FloorMet, "req/s 2.50× nginx-modsec"},
		{"get at the target", "waf-get-pl1", 300, 100, false, Pass, "req/s 3.00×"},
		{"json past the floor", "waf-json-pl1", 60, 10, false, FloorMet, "(floor ≥ 5, target ≥ 10)"},
		{"json at the target", "waf-json-pl2", 100, 10, false, Pass, "req/s 10.00×"},
		{"json under the floor", "waf-json-pl2", 4, 10, false, FallsShort, "req/s 0.40×"},
		{"attack has no target", "waf-attack-pl1", 400, 100, false, NotJudged, "req/s 4.00× nginx-modsec; CPU per request"},
		{"the baseline did not run", "waf-get-pl1", 300, 100, true, NotJudged, "nginx-modsec did not run"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := contender("nginx-modsec", 1000, 1, 1<<20, tc.base, tc.base, tc.base)
			if tc.baseSkipped {
				base = &Contender{Name: "nginx-modsec", Skipped: "not installed"}
			}
			sc := &Scenario{Name: tc.scenario, Baseline: "nginx-modsec", Contenders: []*Contender{
				contender(gateway, 500, 1, 1<<20, tc.gw, tc.gw, tc.gw), base,
				contender("nginx-modsec-crs3", 800, 1, 1<<20, 2*tc.base, 2*tc.base, 2*tc.base),
			}}
			r := &Report{Method: Method{WidePct: 10}, Scenarios: []*Scenario{sc}}
			r.Finish()
			s := sc.find(gateway).Summary
			if s.Target != tc.want || !strings.Contains(s.TargetNote, tc.wantNote) {
				t.Errorf("got %q (%s), want %q with %q", s.Target, s.TargetNote, tc.want, tc.wantNote)
			}
			if crs3 := sc.find("nginx-modsec-crs3").Summary; !tc.baseSkipped && crs3.VsNginx != 2 {
				t.Errorf("nginx-modsec-crs3 × nginx-modsec: got %v, want 2", crs3.VsNginx)
			}
			var b strings.Builder
			scenario(&b, r, sc)
			if !strings.Contains(b.String(), "| × backend | × nginx-modsec |") {
				t.Errorf("got a table without a × nginx-modsec column:\n%s", b.String())
			}
		})
	}
}
