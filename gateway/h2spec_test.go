package gateway

import (
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// h2specVersion is the h2spec release pinned in tools/go.mod, which
// .ci/run installs.
const h2specVersion = "v2.2.1+incompatible"

// TestH2Spec runs h2spec, the HTTP/2 conformance suite, against the
// gateway's TLS listener and an h2c one: every case passes. A listener
// with both HTTP/1 and h2c passes every case but one: bytes that are not
// the HTTP/2 preface are an HTTP/1 request there, answered as one.
func TestH2Spec(t *testing.T) {
	if mod, err := os.ReadFile("../tools/go.mod"); err != nil || !strings.Contains(string(mod), "github.com/summerwind/h2spec "+h2specVersion+" ") {
		t.Errorf("tools/go.mod does not pin h2spec %s (%v)", h2specVersion, err)
	}
	bin, err := exec.LookPath("h2spec")
	if err != nil {
		t.Skip("h2spec not on PATH; install h2spec: go install github.com/summerwind/h2spec/cmd/h2spec@" + h2specVersion)
	}
	if testing.Short() {
		t.Skip("h2spec takes a while; skipped with -short")
	}
	crt, key := newTestCA(t).issue(t, "localhost", "127.0.0.1")
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - { name: tls, address: "127.0.0.1:0", protocols: [http1, http2], tls: { certificates: [ { cert: %q, key: %q } ] } }
  - { name: h2c, address: "127.0.0.1:0", protocols: [http2] }
  - { name: h1-h2c, address: "127.0.0.1:0", protocols: [http1, http2] }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [ %q ] } ]
`, crt, key, newBackend(t, nil).addr()))
	for _, tt := range []struct {
		listener string
		tls      bool
		allowed  string // a case allowed to fail
	}{
		{"tls", true, ""},
		{"h2c", false, ""},
		{"h1-h2c", false, "http2/3.5/2"},
	} {
		t.Run(tt.listener, func(t *testing.T) {
			_, port, _ := net.SplitHostPort(tg.Addr(tt.listener).String())
			report := filepath.Join(t.TempDir(), "h2spec.xml")
			// The timeout is how long h2spec waits for each answer that
			// should come at once: generous, for a loaded machine.
			args := []string{"-h", "127.0.0.1", "-p", port, "-o", "10", "-j", report}
			if tt.tls {
				args = append(args, "-t", "-k")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
			passed, failed := h2specResults(t, report)
			if len(passed)+len(failed) < 145 {
				t.Fatalf("h2spec %v: %v; %d cases in its report, want 145:\n%s", args, err, len(passed)+len(failed), out)
			}
			for _, c := range failed {
				if c != tt.allowed {
					t.Errorf("h2spec case %s failed", c)
				}
			}
			if t.Failed() {
				t.Logf("h2spec %v:\n%s", args, out)
			}
			t.Logf("h2spec: %d passed, %d failed %v", len(passed), len(failed), failed)
		})
	}
}

// h2specResults reads the JUnit report of an h2spec run and returns its
// passed and failed (or skipped) cases, each named as h2spec's command line
// names it: "http2/4.2/3".
func h2specResults(t *testing.T, path string) (passed, failed []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("h2spec report: %v", err)
	}
	var r struct {
		Suites []struct {
			Package string `xml:"package,attr"`
			Cases   []struct {
				Error   *struct{} `xml:"error"`
				Failure *struct{} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &r); err != nil {
		t.Fatalf("h2spec report: %v", err)
	}
	for _, s := range r.Suites {
		for i, c := range s.Cases {
			name := fmt.Sprintf("%s/%d", s.Package, i+1)
			if c.Error != nil || c.Failure != nil || c.Skipped != nil {
				failed = append(failed, name)
			} else {
				passed = append(passed, name)
			}
		}
	}
	return passed, failed
}
