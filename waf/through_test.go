package waf_test

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/waf"
)

// TestThroughTheGateway runs the WAF in a gateway: blocked requests never
// reach the upstream and leave their rules and score in the access log and
// the audit log, passed ones reach it whole, detect mode passes and counts,
// and a profile that inspects responses blocks a leak yet streams a body
// of a type it does not read.
func TestThroughTheGateway(t *testing.T) {
	a := newApp(t)
	wg := startWAFGateway(t, a)
	form, js := "application/x-www-form-urlencoded", "application/json"
	for _, tt := range []struct {
		name, method, path, ctype, body string
		status                          int
	}{
		{"xss in query", "GET", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E", "", "", 403},
		{"sqli in form", "POST", "/login", form, "user=admin'%20OR%201=1--%20&pass=x", 403},
		{"rce in json", "POST", "/api", js, `{"host":"x; cat /etc/passwd"}`, 403},
		{"form field past the limit", "POST", "/post", form, "f=" + strings.Repeat("a", 70<<10), 413},
		{"search", "GET", "/search?q=running+shoes", "", "", 200},
		{"json api", "POST", "/api/orders", js, `{"sku":"SH-42","qty":2}`, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := "id-" + strings.ReplaceAll(tt.name, " ", "-")
			before := a.hits.Load()
			resp, body := wg.send(t, tt.method, tt.path, tt.ctype, tt.body, id)
			if resp.StatusCode != tt.status {
				t.Fatalf("got %d %q, want %d", resp.StatusCode, body, tt.status)
			}
			hits := a.hits.Load() - before
			line := wg.logFor(t, id)
			details, _ := line["response_code_details"].(string)
			switch tt.status {
			case 200:
				if hits != 1 || body != tt.body {
					t.Errorf("got %d hits and body %q upstream, want 1 and %q", hits, body, tt.body)
				}
			case 403:
				if hits != 0 || !strings.HasPrefix(details, "waf_blocked{") || !strings.Contains(details, ";score=") || line["response_flags"] != "-" {
					t.Errorf("got %d hits, details %q, flags %v; want 0 hits, waf_blocked{…;score=…} and no flag", hits, details, line["response_flags"])
				}
				if !strings.Contains(body, `"request_id":"`+id+`"`) || strings.Contains(body, "9") {
					t.Errorf("got body %q, want the request id and no rule ids", body)
				}
				if !strings.Contains(readFile(t, wg.auditPath), `"id":"`+id+`"`) {
					t.Errorf("the audit log has no entry for %s", id)
				}
				md := wafMetadata(line)
				if md["profile"] != "default" || md["outcome"] != "blocked" || !strings.Contains(md["rule_ids"], "949110") ||
					details != "waf_blocked{"+md["rule_ids"]+";score="+md["anomaly_score"]+"}" {
					t.Errorf("got dynamic metadata %v with details %q; want the profile, outcome, rule ids and score of the details", md, details)
				}
			case 413:
				if hits != 0 || details != "waf_limit{inspected_bytes}" {
					t.Errorf("got %d hits and details %q, want 0 and waf_limit{inspected_bytes}", hits, details)
				}
				if md := wafMetadata(line); md["outcome"] != "limited" || md["profile"] != "default" {
					t.Errorf("got dynamic metadata %v, want the limited outcome", md)
				}
			}
			if tt.status == 200 && line["dynamic_metadata"] != nil {
				t.Errorf("a passed request has dynamic metadata %v", line["dynamic_metadata"])
			}
		})
	}
	if got := wg.metric(t, "portcullis_waf_requests_total", map[string]string{"profile": "default", "outcome": "blocked"}); got != 3 {
		t.Errorf("got %v blocked requests counted, want 3", got)
	}
	if got := wg.metric(t, "portcullis_waf_rule_matches_total", map[string]string{"profile": "default", "rule_id": "949110"}); got != 3 {
		t.Errorf("got %v matches of 949110 counted, want 3", got)
	}
	if got := wg.histogramCount(t, "portcullis_waf_inspection_seconds", "default"); got != 6 {
		t.Errorf("got %d inspections timed, want 6", got)
	}

	t.Run("detect mode", func(t *testing.T) {
		before := a.hits.Load()
		resp, _ := wg.send(t, "GET", "/detect/?q=%3Cscript%3Ealert(1)%3C/script%3E", "", "", "id-detect")
		if resp.StatusCode != 200 || a.hits.Load() != before+1 {
			t.Errorf("got %d and %d hits, want 200 and the upstream reached", resp.StatusCode, a.hits.Load()-before)
		}
		if got := wg.metric(t, "portcullis_waf_requests_total", map[string]string{"profile": "watch", "outcome": "detected"}); got != 1 {
			t.Errorf("got %v detected requests counted, want 1", got)
		}
		if !strings.Contains(readFile(t, wg.auditPath), `"id":"id-detect"`) {
			t.Error("the audit log has no entry for the detected request")
		}
		line := wg.logFor(t, "id-detect")
		if md := wafMetadata(line); md["outcome"] != "detected" || md["profile"] != "watch" || !strings.Contains(md["rule_ids"], "941100") || md["anomaly_score"] == "" {
			t.Errorf("got dynamic metadata %v, want detect mode's matches in the access log", md)
		}
	})

	t.Run("response leak", func(t *testing.T) {
		resp, body := wg.send(t, "GET", "/leaks/sql", "", "", "id-leak")
		line := wg.logFor(t, "id-leak")
		details, _ := line["response_code_details"].(string)
		if resp.StatusCode != 403 || strings.Contains(body, "SQL syntax") || !strings.Contains(details, "951") {
			t.Errorf("got %d %q with details %q, want 403 without the page and a 951 rule", resp.StatusCode, body, details)
		}
		if md := wafMetadata(line); md["outcome"] != "response_blocked" || !strings.Contains(md["rule_ids"], "951") {
			t.Errorf("got dynamic metadata %v, want the response's block", md)
		}
	})

	t.Run("response leak in detect mode", func(t *testing.T) {
		resp, body := wg.send(t, "GET", "/watch-leaks/sql", "", "", "id-watch-leak")
		md := wafMetadata(wg.logFor(t, "id-watch-leak"))
		if resp.StatusCode != 200 || !strings.Contains(body, "SQL syntax") || md["outcome"] != "response_detected" || !strings.Contains(md["rule_ids"], "951") {
			t.Errorf("got %d %q with metadata %v; want the page passed and the detection logged", resp.StatusCode, body, md)
		}
	})

	t.Run("response of another type streams", func(t *testing.T) {
		resp, err := http.Get(wg.base + "/leaks/stream")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		first := make([]byte, 4096)
		if _, err := io.ReadFull(resp.Body, first); err != nil {
			t.Fatal(err)
		}
		close(a.first)
		rest, _ := io.ReadAll(resp.Body)
		if string(rest) != "tail" {
			t.Errorf("got %q after the first part, want tail: the gateway held the body back", rest)
		}
	})

	t.Run("audit log reopened", func(t *testing.T) {
		if err := os.Rename(wg.auditPath, wg.auditPath+".1"); err != nil {
			t.Fatal(err)
		}
		if err := wg.waf.ReopenAuditLogs(); err != nil {
			t.Fatal(err)
		}
		wg.send(t, "GET", "/?q=%3Cscript%3E", "", "", "id-after-reopen")
		if !strings.Contains(readFile(t, wg.auditPath), `"id":"id-after-reopen"`) {
			t.Error("the reopened audit log has no entry for the request after the reopen")
		}
	})
}

// TestReloadReleasesEngines reloads the same routes file: the new
// configuration builds its own engines before the swap, and the old ones
// go once the old configuration has no request left.
func TestReloadReleasesEngines(t *testing.T) {
	a := newApp(t)
	wg := startWAFGateway(t, a)
	engines := func() float64 { return wg.metric(t, "portcullis_waf_engines", nil) }
	if got := engines(); got != 4 {
		t.Fatalf("got %v engines, want 4 (default, watch, leaks, watch-leaks)", got)
	}
	next := wg.load(t)
	if got := engines(); got != 8 {
		t.Errorf("got %v engines with the next configuration built, want 8", got)
	}
	if err := wg.gw.Reload(next); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for engines() != 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := engines(); got != 4 {
		t.Errorf("got %v engines after the reload, want the old 4 released", got)
	}
	if resp, _ := wg.send(t, "GET", "/?q=%3Cscript%3E", "", "", "id-reloaded"); resp.StatusCode != 403 {
		t.Errorf("got %d after the reload, want the new engines blocking", resp.StatusCode)
	}
}

// wafMetadata is the WAF's namespace of an access-log line's
// dynamic_metadata.
func wafMetadata(line map[string]any) map[string]string {
	all, _ := line["dynamic_metadata"].(map[string]any)
	ns, _ := all[waf.Namespace].(map[string]any)
	out := make(map[string]string, len(ns))
	for k, v := range ns {
		out[k], _ = v.(string)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}
