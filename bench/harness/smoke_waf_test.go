package harness

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSmokeWAF runs one WAF scenario, the JSON POST at paranoia level 2,
// for half a second against the gateway and, where Debian's ModSecurity
// module for nginx and its CRS 3 are installed, nginx with ModSecurity on
// the CRS v4 and on CRS 3: each must pass the WAF checks and answer every
// request of the load with 200.
func TestSmokeWAF(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the servers; skipped with -short")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{
		Repo: repo, Scenarios: []string{"waf-json-pl2"}, Contenders: []string{"portcullis", "nginx-modsec", "nginx-modsec-crs3"},
		Rounds: 1, Duration: 500 * time.Millisecond, LoadCPUs: "0", ServerCPUs: "1", Pin: true, WidePct: 10,
		Command: "go test ./bench/harness -run TestSmokeWAF", Log: logWriter{t},
	})
	if err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	if len(rep.Scenarios) != 1 || rep.Scenarios[0].Skipped != "" {
		t.Fatalf("got scenarios %+v, want waf-json-pl2 run", rep.Scenarios)
	}
	sc := rep.Scenarios[0]
	if sc.Baseline != "nginx-modsec" {
		t.Errorf("baseline: got %q, want nginx-modsec", sc.Baseline)
	}
	names := map[string]bool{}
	for _, c := range sc.Contenders {
		names[c.Name] = true
		t.Run(c.Name, func(t *testing.T) {
			if c.Name != "portcullis" && strings.Contains(c.Skipped, "not installed (package ") {
				t.Skipf("%s", c.Skipped)
			}
			checkContender(t, c)
		})
	}
	if len(names) != 3 {
		t.Errorf("contenders: got %v, want portcullis, nginx-modsec and nginx-modsec-crs3", names)
	}
}
