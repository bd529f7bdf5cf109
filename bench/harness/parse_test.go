package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/bench/load"
	"github.com/portcullis-gw/portcullis/bench/report"
)

func TestParseCrossTools(t *testing.T) {
	tests := []struct {
		file    string
		parse   func(string) (report.Cross, error)
		want    report.Cross
		wantErr bool
	}{
		{"wrk-ok.txt", parseWrk, report.Cross{RPS: 16561.37, P50: 139, P99: 33780}, false},
		{"wrk-errors.txt", parseWrk, report.Cross{RPS: 24689.01, P50: 106, P99: 1.2e6, Errors: 27149 + 10}, false},
		{"h2load-ok.txt", parseH2load, report.Cross{RPS: 5659}, false},
		{"h2load-errors.txt", parseH2load, report.Cross{RPS: 100, Errors: 10 + 20 + 3 + 2}, false},
		{"h2load-ok.txt", parseWrk, report.Cross{}, true},
		{"wrk-ok.txt", parseH2load, report.Cross{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.parse(string(b))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error: got %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !closeCross(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func closeCross(a, b report.Cross) bool {
	near := func(x, y float64) bool { return x-y < 1e-6 && y-x < 1e-6 }
	return near(a.RPS, b.RPS) && near(a.P50, b.P50) && near(a.P99, b.P99) && a.Errors == b.Errors
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		wantPgrp  int
		wantTicks uint64
		wantOK    bool
	}{
		{"plain", "1234 (nginx) S 1 1234 1234 0 -1 4194560 100 0 0 0 70 30 0 0 20 0 1 0 100 1000 200", 1234, 100, true},
		{"name with spaces and parens", "99 (a b) c)) R 1 42 42 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 1 1", 42, 11, true},
		{"truncated", "99 (x) R 1 42", 0, 0, false},
		{"no parenthesis", "99 x R 1 42 42 0 -1 0 0 0 0 0 5 6", 0, 0, false},
		{"not numbers", "99 (x) R 1 g 42 0 -1 0 0 0 0 0 u s 0 0", 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pg, ticks, ok := parseStat([]byte(tc.line))
			if pg != tc.wantPgrp || ticks != tc.wantTicks || ok != tc.wantOK {
				t.Errorf("got %d, %d, %v; want %d, %d, %v", pg, ticks, ok, tc.wantPgrp, tc.wantTicks, tc.wantOK)
			}
		})
	}
}

func TestGroupStatOfThisProcess(t *testing.T) {
	// The test binary is in some process group; its own stats must be
	// readable and its peak memory non-zero.
	pg, _, ok := parseStat(mustRead(t, "/proc/self/stat"))
	if !ok {
		t.Fatal("cannot parse /proc/self/stat")
	}
	_, rss, err := groupStat(pg)
	if err != nil || rss <= 0 {
		t.Errorf("got rss %d, err %v; want rss > 0, nil", rss, err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCPUCount(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{{"1", 1}, {"0-3", 4}, {"0,2", 2}, {"0-1,4-5", 4}, {"x", 1}, {"3-1", 1}, {"", 1}}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := cpuCount(tc.in); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestVersionAtLeast(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{{"nginx/1.22.1", false}, {"nginx/1.25.1", true}, {"nginx/1.26.0", true}, {"nginx/2.0.0", true}, {"nginx", false}}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := versionAtLeast(tc.in, 1, 25, 1); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPick(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr bool
	}{
		{"all", []string{"all"}, nil, false},
		{"usual order whatever the order asked", []string{"conns", "h1"}, []string{"h1", "conns"}, false},
		{"unknown", []string{"h1", "h9"}, nil, true},
		{"the waf group", []string{"waf"}, []string{"waf-get-pl1", "waf-json-pl1", "waf-attack-pl1", "waf-get-pl2", "waf-json-pl2", "waf-attack-pl2"}, false},
		{"the waf group and a name in it", []string{"waf-json-pl2", "waf", "h1"}, []string{"h1", "waf-get-pl1", "waf-json-pl1", "waf-attack-pl1", "waf-get-pl2", "waf-json-pl2", "waf-attack-pl2"}, false},
		{"one waf scenario", []string{"waf-attack-pl2", "h2"}, []string{"h2", "waf-attack-pl2"}, false},
		{"the egress group", []string{"egress"}, []string{"egress-bytes", "egress-tls"}, false},
		{"a waf scenario that is not there", []string{"waf-post-pl3"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pick(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error: got %v, want error %v", err, tc.wantErr)
			}
			if tc.want == nil {
				if !tc.wantErr && len(got) != len(scenarios) {
					t.Errorf("got %d scenarios, want all %d", len(got), len(scenarios))
				}
				return
			}
			var names []string
			for _, s := range got {
				names = append(names, s.name)
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("got %v, want %v", names, tc.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		sc   scenario
		idle int
		want string
	}{
		{"h1", scenarios[0], 0, "h1, 32 connections, closed loop, GET /1k"},
		{"h2", scenarios[1], 0, "h2, 4 connections × 8 streams, closed loop, GET /1k"},
		{"up", scenario{proto: "h1", method: "POST", path: "/0", body: 1 << 20, conns: 8, streams: 1}, 0,
			"h1, 8 connections, closed loop, POST /0 with a 1 MiB body"},
		{"conns", scenario{proto: "h1", method: "GET", path: "/1k", conns: 32, streams: 1, idle: true}, 10000,
			"h1, 32 connections, closed loop, GET /1k, while 10,000 idle keep-alive connections are held open"},
		{"reload", scenario{proto: "h1", method: "GET", path: "/1k", conns: 32, streams: 1, reload: true}, 0,
			"h1, 32 connections, closed loop, GET /1k, while the contender reloads its configuration every 1s"},
		{"waf json", wafScenarios()[1], 0, fmt.Sprintf("h1, 4 connections, closed loop, POST /0 with %d bytes of JSON and a browser's header, "+
			"where {seq} is a number no other request of the run has; every answer must be 200", len(load.Expand(wafRequests["json"].body, 0)))},
		{"waf attack", wafScenarios()[5], 0, "h1, 4 connections, closed loop, GET /1k?q={seq}%27+UNION+SELECT+password+FROM+users+WHERE+id%3D{seq}-- " +
			"and a browser's header, where {seq} is a number no other request of the run has; every answer must be 403"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.sc.describe(tc.idle, time.Second); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
