package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/bench/hist"
	"github.com/portcullis-gw/portcullis/bench/load"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// contender makes a contender whose rounds have the given req/s, with
// latencies drawn around p50 µs, and the same histogram every time.
func contender(name string, p50 float64, cpu float64, rss int64, rps ...float64) *Contender {
	c := &Contender{Name: name, PeakRSS: rss, Hist: new(hist.Histogram)}
	r := rand.New(rand.NewPCG(uint64(len(name)), uint64(p50)))
	for i, v := range rps {
		var h hist.Histogram
		for range 2000 {
			h.Record(int64(p50 * 1e3 * (0.5 + r.ExpFloat64()*0.5)))
		}
		c.Hist.Merge(&h)
		lat := load.Summarize(&h)
		c.Rounds = append(c.Rounds, Round{RPS: v, Requests: uint64(v * 5), Latency: lat, CPUSeconds: cpu * float64(i+1)})
	}
	return c
}

// reloading makes c's rounds reload rounds (five reloads each, applied
// within 2 ms) with steady rounds beside them at 1.1× their req/s; nginx
// has a first reload not applied. errs puts that many errors in its last
// reload round.
func reloading(c *Contender, applyMs float64, errs uint64) *Contender {
	c.SteadyHist = new(hist.Histogram)
	c.SteadyHist.Merge(c.Hist)
	for i := range c.Rounds {
		r := &c.Rounds[i]
		st := *r
		st.RPS *= 1.1
		c.Steady = append(c.Steady, st)
		r.Reloads, r.Applied, r.SlowestApply = 5, 5, applyMs*1e3*float64(i+1)/3
	}
	if c.Name == "nginx" {
		c.Rounds[0].Applied, c.Rounds[0].ReloadError = 4, "the old variant still answered after 1s"
	}
	if errs > 0 {
		last := &c.Rounds[len(c.Rounds)-1]
		last.Errors, last.ErrorSample = map[string]uint64{"eof": errs}, "EOF"
	}
	return c
}

// fixture is a report with every feature the Markdown shows: a skipped
// scenario, a skipped contender, errors, a cross-check, a wide spread.
func fixture() *Report {
	gwH1 := contender("portcullis", 1500, 4.0, 30<<20, 10500, 10900, 10700)
	gwH1.Rounds[1].Errors = map[string]uint64{"status_502": 3}
	gwH1.Rounds[1].ErrorSample = "status 502"
	gwH1.CrossTool = "wrk"
	gwH1.Cross = []Cross{{RPS: 11000, P50: 1400, P99: 4000}, {RPS: 11200, P99: 4100}, {RPS: 10900, P99: 3900}}
	nginxH1 := contender("nginx", 1600, 3.0, 12<<20, 10000, 10200, 10400)
	nginxH1.CrossTool = "wrk"
	nginxH1.Cross = []Cross{{RPS: 10100, P99: 4500}, {RPS: 10300, P99: 4400}, {RPS: 10200, P99: 4600}}
	r := &Report{
		Date: "2026-11-25T10:00:00Z", Name: "all", Command: "go run ./bench/cmd/bench -rounds 3",
		Machine:  Machine{CPUs: 2, Model: "AMD EPYC", Kernel: "Linux 6.1.0", Go: "go1.26.0", Pinned: true, LoadCPUs: "0", ServerCPUs: "1"},
		Versions: []Version{{"nginx", "nginx/1.22.1"}, {"portcullis", "portcullis dev"}},
		Method:   Method{Rounds: 3, Duration: "5s", Warmup: "2s", WidePct: 10},
		Notes:    []string{"haproxy is not run: not installed"},
		Scenarios: []*Scenario{
			{Name: "h1", Title: "plain proxy", Load: "h1, 32 connections, GET /1k", Plot: "all-h1.svg", Contenders: []*Contender{
				contender("backend", 800, 1.0, 10<<20, 20000, 20500, 19800),
				gwH1, nginxH1,
				{Name: "haproxy", Skipped: "not installed"},
			}},
			{Name: "h2", Title: "TLS h2", Load: "h2, 4 × 8", Contenders: []*Contender{
				contender("backend", 700, 1.0, 10<<20, 25000, 25100, 24900),
				contender("portcullis", 1900, 5.0, 32<<20, 8000, 9500, 7000),
				contender("nginx", 1800, 3.0, 12<<20, 9000, 9100, 9050),
			}},
			{Name: "h3", Title: "h3", Load: "h3, 4 × 8", Contenders: []*Contender{
				contender("portcullis", 2200, 6.0, 35<<20, 6000, 6100, 6050),
			}},
			{Name: "conns", Title: "idle", Load: "h1 while 10000 idle", Idle: 10000, Contenders: []*Contender{
				contender("portcullis", 1500, 4.0, 90<<20, 9000, 9100, 9050),
			}},
			{Name: "reload", Title: "reload under load", Load: "h1, 32 connections, GET /1k", ReloadEvery: "1s",
				Contenders: []*Contender{
					{Name: "backend", Skipped: "has no configuration to reload"},
					reloading(contender("portcullis", 1500, 4.0, 30<<20, 10000, 10100, 9900), 9, 0),
					reloading(contender("nginx", 1600, 3.0, 12<<20, 9500, 9600, 9400), 5, 7),
				}},
			{Name: "waf", Title: "WAF", Skipped: "not built yet"},
		},
	}
	r.Finish()
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (run go test -update once)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: got\n%s\nwant\n%s", name, got, want)
	}
}

func TestMarkdownGolden(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden.md", b.Bytes())
}

func TestSVGGolden(t *testing.T) {
	var b bytes.Buffer
	if err := SVG(&b, fixture().Scenarios[0]); err != nil {
		t.Fatal(err)
	}
	golden(t, "h1.golden.svg", b.Bytes())
	// The plot must be well-formed XML, or browsers show nothing.
	d := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Errorf("svg is not well-formed: %v", err)
			}
			break
		}
	}
}

func TestVerdicts(t *testing.T) {
	r := fixture()
	tests := []struct {
		scenario string
		want     string
		wantWide bool
	}{
		{"h1", Pass, false},
		{"h2", FallsShort, true},
		{"h3", FallsShort, true},
		{"conns", Pass, false},
		{"reload", Pass, false},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			s := r.scenario(tc.scenario).find(gateway).Summary
			if s.Target != tc.want || s.TargetWide != tc.wantWide {
				t.Errorf("got %q (wide %v, %s), want %q (wide %v)", s.Target, s.TargetWide, s.TargetNote, tc.want, tc.wantWide)
			}
		})
	}
}

func TestUnsettled(t *testing.T) {
	tests := []struct {
		name   string
		a, b   Spread
		factor float64
		want   bool
	}{
		{"narrow spreads settle it", Spread{Min: 9, Max: 11}, Spread{Min: 10, Max: 12}, 1, false},
		{"wide but apart", Spread{Min: 5, Max: 7, Wide: true}, Spread{Min: 10, Max: 12}, 1, false},
		{"wide and overlapping", Spread{Min: 5, Max: 11, Wide: true}, Spread{Min: 10, Max: 12}, 1, true},
		{"wide, above after the factor", Spread{Min: 9, Max: 12, Wide: true}, Spread{Min: 10, Max: 11}, 0.8, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := unsettled(tc.a, tc.b, tc.factor); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSummaryFigures(t *testing.T) {
	r := fixture()
	h1 := r.scenario("h1")
	gw, base, nginx := h1.find(gateway).Summary, h1.find("backend").Summary, h1.find("nginx").Summary
	tests := []struct {
		name      string
		got, want float64
	}{
		{"median req/s", gw.RPS.Median, 10700},
		{"spread percent", gw.RPS.Pct, 400.0 / 10700 * 100},
		{"vs backend", gw.VsBackend, 10700.0 / 20000},
		{"vs nginx", gw.VsNginx, 10700.0 / 10200},
		{"nginx vs itself", nginx.VsNginx, 1},
		{"backend vs itself", base.VsBackend, 1},
		{"errors", float64(gw.Errors), 3},
		{"cpu per 10k: median of 4, 8 and 12 s over each round's requests", gw.CPUPer10k, 8.0 / (10900 * 5) * 1e4},
		{"peak rss MiB", gw.PeakRSSMiB, 30},
		{"wrk median", gw.Cross.Median, 11000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := tc.got - tc.want; d > 1e-9 || d < -1e-9 {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	md, err := Write(dir, fixture())
	if err != nil {
		t.Fatalf("Write: got %v, want nil", err)
	}
	for _, f := range []string{"2026-11-25-all.md", "2026-11-25-all.json", "2026-11-25-all-h1.svg", "2026-11-25-all-conns.svg", "2026-11-25-all-reload.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: got %v, want the file", f, err)
		}
	}
	b, err := os.ReadFile(md)
	if err != nil || !strings.Contains(string(b), "](2026-11-25-all-h1.svg)") {
		t.Errorf("markdown: got err %v, want a link to the h1 plot", err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "2026-11-25-all.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatalf("json: got %v, want nil", err)
	}
	if got := back.Scenarios[0].Contenders[1].Summary.Target; got != Pass {
		t.Errorf("json target: got %q, want %q", got, Pass)
	}
}
