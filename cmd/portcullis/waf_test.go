package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWAFInTheProcess runs the binary with a WAF profile: a reload whose
// SecLang Coraza refuses keeps the running WAF and logs the directive's
// line, and SIGUSR1 reopens the WAF's audit log as it does the access log.
func TestWAFInTheProcess(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "routes.yaml")
	auditPath := filepath.Join(dir, "audit.log")
	routesFile := func(rules string) string {
		return fmt.Sprintf(`admin: { address: "off" }
access_log: { path: off }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
waf:
  audit_log: { path: %q }
  profiles:
    site:
      rules: [%s]
virtual_hosts:
  - name: all
    hosts: ["*"]
    plugins: [ { waf: site } ]
    routes: [ { name: hello, direct_response: { status: 200, body: "hello" } } ]
`, auditPath, rules)
	}
	os.WriteFile(cfgPath, []byte(routesFile(`'SecRule ARGS:deny "@streq 1" "id:10001,phase:1,deny,status:403"'`)), 0o600)
	c := startChild(t, "--config", cfgPath)
	web := strings.TrimSuffix(c.waitLog(t, "listening")["url"].(string), "/")
	send := func(query, id string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", web+"/?"+query, nil)
		req.Header.Set("X-Request-Id", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	inAudit := func(id string) bool {
		b, _ := os.ReadFile(auditPath)
		return strings.Contains(string(b), `"id":"`+id+`"`)
	}
	if send("deny=1", "first") != 403 || send("q=fine", "fine") != 200 || !inAudit("first") {
		t.Fatal("the profile's own rule does not block, or the audit log lacks the block")
	}

	os.WriteFile(cfgPath, []byte(routesFile(`'SecRule ARGS "@nosuchoperator x" "id:10002,phase:1,deny"'`)), 0o600)
	c.cmd.Process.Signal(syscall.SIGHUP)
	m := c.waitLog(t, "routes file has errors; keeping the running configuration")
	if e, _ := m["error"].(string); !strings.HasPrefix(e, cfgPath+":8:") || !strings.Contains(e, `waf.profiles.site.rules[0]: failed to compile the directive "secrule"`) {
		t.Errorf("got error %q, want it at %s:8 naming rules[0]", e, cfgPath)
	}
	if send("deny=1", "kept") != 403 {
		t.Error("the running WAF's rule stopped blocking after a failed reload")
	}

	if err := os.Rename(auditPath, auditPath+".1"); err != nil {
		t.Fatal(err)
	}
	c.cmd.Process.Signal(syscall.SIGUSR1)
	for deadline := time.Now().Add(10 * time.Second); !inAudit("rotated"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no audit entry in the reopened file")
		}
		send("deny=1", "rotated")
	}
}
