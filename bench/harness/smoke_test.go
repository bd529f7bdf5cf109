package harness

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/bench/report"
)

// logWriter sends the harness's progress lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestSmoke runs every scenario for under a second against the backend
// alone, the bare Go proxy and, if it builds, the gateway, all on
// loopback, and checks each answered without an error. The reload scenario
// runs the gateway alone (the others have nothing to reload) for half a
// second without reloads and half a second with one every 250 ms, and
// checks every reload was applied without an error, however long the
// machine took to apply it. Of the WAF scenarios it runs one, the attack
// at paranoia level 2 (the quickest load; the checks before it send the
// benign GET and JSON POST and an attack in a JSON body), against the
// gateway and nginx with ModSecurity on the CRS v4 and on CRS 3, which
// must pass the checks and answer every request with 403; nginx with
// ModSecurity is skipped, naming the package, where it is not installed.
// The egress scenarios run the backend directly and, through CONNECT
// tunnels, the gateway's forward proxy and squid, each of which must
// first refuse tunnels that are not to the backend; squid is skipped,
// naming the package, where it is not installed.
// The other peers are left out: they are not installed everywhere the
// tests run.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the servers; skipped with -short")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(repo, "go.mod")); err != nil {
		t.Fatalf("repository root: %v", err)
	}
	// A hard bound, so a hung server fails the test instead of CI. It is
	// generous: where squid and nginx with ModSecurity are installed, the
	// egress and WAF scenarios run them too, which took three minutes on a
	// loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var names []string
	for _, sc := range scenarios {
		if sc.waf == nil || sc.name == "waf-attack-pl2" {
			names = append(names, sc.name)
		}
	}
	rep, err := Run(ctx, Options{
		Repo: repo, Scenarios: names, Contenders: []string{"backend", "portcullis", "bareproxy", "nginx-modsec", "nginx-modsec-crs3", "squid"},
		Rounds: 1, Duration: 500 * time.Millisecond, Idle: 200, ReloadEvery: 250 * time.Millisecond,
		// A reload is a handful of milliseconds on an idle machine; on a
		// loaded one the gateway's CPU may be taken for a while, and
		// what is checked is that each reload applies, not how fast.
		ApplyWithin: 30 * time.Second,
		LoadCPUs:    "0", ServerCPUs: "1", Pin: true, WidePct: 10,
		Command: "go test ./bench/harness -run TestSmoke", Log: logWriter{t},
	})
	if err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the smoke run hit its bound: %v", ctx.Err())
	}
	ran := 0
	for _, sc := range rep.Scenarios {
		if sc.Skipped != "" {
			if !strings.HasPrefix(sc.Skipped, "not built yet") {
				t.Errorf("%s: skipped: %s", sc.Name, sc.Skipped)
			}
			continue
		}
		ran++
		if sc.Baseline != "" && sc.Baseline != "squid" && len(sc.Contenders) != 3 {
			t.Errorf("%s: got %d contenders, want the gateway and nginx with ModSecurity on the CRS v4 and CRS 3", sc.Name, len(sc.Contenders))
		}
		for _, c := range sc.Contenders {
			check := checkContender
			switch {
			case sc.ReloadEvery != "":
				check = checkReloading
			case sc.Baseline == "squid":
				check = checkEgressContender
			case sc.Baseline != "":
				check = checkWAFContender
			}
			t.Run(sc.Name+"/"+c.Name, func(t *testing.T) { check(t, c) })
		}
	}
	if ran < 11 {
		t.Errorf("scenarios run: got %d, want the 11 asked for that are built", ran)
	}
	md, err := report.Write(t.TempDir(), rep)
	if err != nil {
		t.Fatalf("Write: got %v, want nil", err)
	}
	if b, err := os.ReadFile(md); err != nil || !strings.Contains(string(b), "## h1:") {
		t.Errorf("report: got err %v, want a Markdown report with an h1 section", err)
	}
}

func checkContender(t *testing.T, c *report.Contender) {
	if c.Skipped != "" {
		if c.Name == "portcullis" && strings.HasPrefix(c.Skipped, "does not build yet") {
			t.Skipf("the gateway %s", c.Skipped)
		}
		t.Fatalf("skipped: %s", c.Skipped)
	}
	if len(c.Rounds) != 1 {
		t.Fatalf("rounds: got %d, want 1", len(c.Rounds))
	}
	r := c.Rounds[0]
	if r.Failed != "" {
		t.Fatalf("round failed: %s", r.Failed)
	}
	if r.Requests == 0 || len(r.Errors) > 0 {
		t.Errorf("got %d requests and errors %v (%s), want some and none", r.Requests, r.Errors, r.ErrorSample)
	}
	if c.PeakRSS <= 0 {
		t.Errorf("peak RSS: got %d, want > 0", c.PeakRSS)
	}
}

// checkWAFContender checks a contender of a WAF scenario as any other,
// and skips nginx with ModSecurity where Debian's module or CRS 3 is not
// installed, naming the package.
func checkWAFContender(t *testing.T, c *report.Contender) {
	if c.Name != "portcullis" && strings.Contains(c.Skipped, "not installed (package ") {
		t.Skipf("%s", c.Skipped)
	}
	checkContender(t, c)
}

// checkEgressContender checks a contender of an egress scenario as any
// other, and skips squid where Debian's package is not installed.
func checkEgressContender(t *testing.T, c *report.Contender) {
	if c.Name == "squid" && strings.Contains(c.Skipped, "not installed (package squid") {
		t.Skipf("%s", c.Skipped)
	}
	checkContender(t, c)
}

// checkReloading checks a contender of the reload scenario: the gateway
// ran a round without reloads and one with them, every reload applied and
// no request failed; the others sat out, having no configuration.
func checkReloading(t *testing.T, c *report.Contender) {
	if c.Name != "portcullis" {
		if c.Skipped != "has no configuration to reload" {
			t.Errorf("skipped: got %q, want %q", c.Skipped, "has no configuration to reload")
		}
		return
	}
	checkContender(t, c)
	if len(c.Steady) != 1 || c.Steady[0].Failed != "" || c.Steady[0].Requests == 0 {
		t.Errorf("rounds without reloads: got %+v, want one with requests", c.Steady)
	}
	r := c.Rounds[0]
	if r.Reloads == 0 || r.Applied != r.Reloads {
		t.Errorf("reloads: got %d applied of %d (%s), want all of at least one", r.Applied, r.Reloads, r.ReloadError)
	}
}
