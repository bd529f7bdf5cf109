package report

import (
	"strings"
	"testing"
)

func TestJudgeReload(t *testing.T) {
	round := func(reloads, applied int, errs uint64) Round {
		r := Round{RPS: 1000, Requests: 5000, Reloads: reloads, Applied: applied, SlowestApply: 1500}
		if errs > 0 {
			r.Errors = map[string]uint64{"reset": errs}
		}
		if applied < reloads {
			r.ReloadError = "the old variant still answered after 1s"
		}
		return r
	}
	tests := []struct {
		name     string
		rounds   []Round
		want     string
		wantNote string
	}{
		{"clean", []Round{round(5, 5, 0), round(5, 5, 0)}, Pass, "no errors in 10,000 requests; 10 of 10 reloads applied, the slowest in 1.5 ms"},
		{"errors", []Round{round(5, 5, 0), round(5, 5, 2)}, FallsShort, "2 of 10,000 requests failed (reset 2)"},
		{"not applied", []Round{round(5, 4, 0)}, FallsShort, "4 of 5 reloads applied"},
		{"errors and not applied", []Round{round(5, 3, 1)}, FallsShort, "1 of 5,000 requests failed (reset 1); 3 of 5"},
		{"no reload due", []Round{round(0, 0, 0)}, NotJudged, "no reload was due"},
		{"failed round", []Round{round(5, 5, 0), {Failed: "load: exit status 2"}}, NotJudged, "a round failed: load: exit status 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Contender{Name: gateway, Rounds: tc.rounds}
			c.summarize(10)
			got, note := judgeReload(c)
			if got != tc.want || !strings.Contains(note, tc.wantNote) {
				t.Errorf("got %q (%s), want %q (%s)", got, note, tc.want, tc.wantNote)
			}
		})
	}
}

func TestReloadSummary(t *testing.T) {
	c := reloading(contender("portcullis", 1500, 4.0, 30<<20, 10000, 10100, 9900), 9, 4)
	c.summarize(10)
	s := c.Summary
	tests := []struct {
		name      string
		got, want float64
	}{
		{"reloads", float64(s.Reloads), 15},
		{"applied", float64(s.ReloadsApplied), 15},
		{"slowest apply, µs", s.SlowestApply, 9000},
		{"errors during reloads", float64(s.Errors), 4},
		{"steady req/s", s.Steady.RPS.Median, 11000},
		{"steady errors", float64(s.Steady.Errors), 0},
		{"steady has no reloads", float64(s.Steady.Reloads), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := tc.got - tc.want; d > 1e-6 || d < -1e-6 {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestReloadPlotHasSteadyCurves(t *testing.T) {
	var b strings.Builder
	if err := SVG(&b, fixture().scenario("reload")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"portcullis, steady", "nginx, steady", `stroke-dasharray="6 4"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("got a plot without %q, want it", want)
		}
	}
}
