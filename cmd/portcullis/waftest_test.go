package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestWAFTest runs `portcullis waf test` as a user asking why a request is
// blocked: the verdict, the score, each rule with the variable and value it
// matched, and an exit status a script can read.
func TestWAFTest(t *testing.T) {
	code, out, errs := runCmd("waf", "test", "GET /?q=<script>alert(1)</script>")
	for _, want := range []string{
		"GET /?q=<script>alert(1)</script> HTTP/1.1\n",
		"profile default (mode block, paranoia level 1 and 9 promoted rules): blocked, 403\n",
		"details: waf_blocked{941100,",
		"  941100 critical: XSS Attack Detected via libinjection\n",
		"      ARGS:q = \"<script>alert(1)</script>\"\n",
		"  949110: Inbound Anomaly Score Exceeded",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if code != 1 || errs != "" {
		t.Errorf("exit %d, stderr %q; want 1 for a blocked request", code, errs)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "waf", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, shown, _ := strings.Cut(string(readme), "$ portcullis waf test 'GET /?q=<script>alert(1)</script>'\n")
	shown, _, _ = strings.Cut(shown, "```")
	if shown != out {
		t.Errorf("waf/README.md shows\n%s\nthe command prints\n%s", shown, out)
	}

	code, out, _ = runCmd("waf", "test", "GET", "/search?q=blue+shoes")
	if code != 0 || !strings.Contains(out, ": passed\n") || !strings.Contains(out, "no rule matched\n") {
		t.Errorf("a benign search: exit %d\n%s", code, out)
	}

	// A profile of a routes file, in detect mode and with an exclusion.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "routes.yaml")
	os.WriteFile(cfg, []byte(`listeners: [ { name: web, address: "127.0.0.1:0" } ]
waf:
  profiles:
    watch: { mode: detect }
    quiet:
      exclusions: [ { ids: ["941100"] } ]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes: [ { name: hello, direct_response: { status: 200, body: "hello" } } ]
`), 0o600)
	code, out, errs = runCmd("waf", "test", "--config", cfg, "--profile", "watch", "GET /?q=<script>alert(1)</script>")
	if code != 0 || !strings.Contains(out, "profile watch (mode detect, paranoia level 1 and 9 promoted rules): detected\n") || !strings.Contains(out, "details: waf_blocked{941100,") {
		t.Errorf("detect mode: exit %d, stderr %q\n%s", code, errs, out)
	}
	code, out, _ = runCmd("waf", "test", "--config", cfg, "--profile", "quiet", "GET /?q=<script>alert(1)</script>")
	if code != 1 || strings.Contains(out, "941100") || !strings.Contains(out, "941110") {
		t.Errorf("an exclusion of 941100: exit %d\n%s", code, out)
	}

	// A whole request from a file, written by hand with bare LFs, whose
	// JSON body carries the attack; and the JSON output.
	req := filepath.Join(dir, "req.http")
	body := `{"user": {"name": "x' UNION SELECT password FROM users--"}}`
	os.WriteFile(req, []byte("POST /api/users HTTP/1.1\nHost: shop.example\nUser-Agent: app/1.0\nAccept: application/json\nContent-Type: application/json\nContent-Length: "+strconv.Itoa(len(body))+"\n\n"+body), 0o600)
	code, out, errs = runCmd("waf", "test", "--json", "--request", req)
	var v struct {
		Outcome string `json:"outcome"`
		Status  int    `json:"status"`
		Score   int    `json:"inbound_anomaly_score"`
		Rules   []struct {
			ID      int `json:"id"`
			Matches []struct{ Variable, Value string }
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 1 {
		t.Fatalf("--json: exit %d, stderr %q, %v\n%s", code, errs, err, out)
	}
	found := false
	for _, r := range v.Rules {
		for _, m := range r.Matches {
			found = found || m.Variable == "ARGS:json.user.name" && strings.Contains(m.Value, "UNION SELECT")
		}
	}
	if v.Outcome != "blocked" || v.Status != 403 || v.Score < 5 || !found {
		t.Errorf("got %+v; want a block on ARGS:json.user.name", v)
	}
}

// TestWAFTestMistakes: each wrong command line gets exit 2 and says what is
// wrong.
func TestWAFTestMistakes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"waf"}, "usage:"},
		{[]string{"waf", "check"}, `unknown command "check"`},
		{[]string{"waf", "test"}, "no request: give 'METHOD TARGET' or --request FILE"},
		{[]string{"waf", "test", "--profile", "strict", "GET /"}, `no profile "strict" (defined: default)`},
		{[]string{"waf", "test", "-H", "nocolon", "GET /"}, `header "nocolon": want 'Name: value'`},
		{[]string{"waf", "test", "GET /a/..;/admin"}, "the gateway refuses the path"},
		{[]string{"waf", "test", "GET / HTTP/1.1 extra"}, "want 'METHOD TARGET'"},
		{[]string{"waf", "test", "--request", "/nonexistent/req.http"}, "no such file"},
		{[]string{"waf", "test", "--request", "x", "GET /"}, "--request takes the whole request"},
		{[]string{"waf", "test", "--config", "/nonexistent/routes.yaml", "GET /"}, "/nonexistent/routes.yaml"},
	} {
		code, _, errs := runCmd(tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}
