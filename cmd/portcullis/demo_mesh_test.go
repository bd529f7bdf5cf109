package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

// meshClient is an HTTPS client that trusts the demo CA in dir and presents
// the certificate in certDir, if any.
func meshClient(t *testing.T, dir, certDir string) *http.Client {
	t.Helper()
	roots := x509.NewCertPool()
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil || !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("the demo's CA: %v", err)
	}
	cfg := &tls.Config{RootCAs: roots}
	if certDir != "" {
		pair, err := tls.LoadX509KeyPair(filepath.Join(certDir, "tls.crt"), filepath.Join(certDir, "tls.key"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

// meshStart is the start-up line that gives the mesh listener's commands.
const meshStart = "mesh listener: issue yourself a certificate from the demo's CA, then call it with curl"

// TestDemoMeshSession runs the session the README shows: the demo makes its
// CA in the state directory, a newcomer issues a certificate with the
// printed command and calls the mesh listener with it, and sees their
// principal in the echo's x-forwarded-client-cert and in the access log. A
// call without a certificate is refused. A second start reuses the CA.
func TestDemoMeshSession(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	c, _, _ := demoChild(t, "--state-dir", dir)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state dir: got %v %v, want a directory made 0700", fi, err)
	}
	start := c.waitLog(t, meshStart)
	issue, curl := start["issue"].(string), start["curl"].(string)
	wantIssue := "portcullis certs issue --dir " + dir + " --spiffe-id spiffe://cluster.local/ns/allowed-namespace/sa/client"
	if issue != wantIssue {
		t.Fatalf("printed issue command: got %q, want %q", issue, wantIssue)
	}
	// The README's session, in the default state directory.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	session := regexp.MustCompile(`(?m)^\$ (portcullis certs issue .*)\n(?:.*\n){4}\$ cd ~/.cache/portcullis && curl --cert (\S+) --key (\S+) --cacert (\S+) (\S+)\n`).FindSubmatch(readme)
	if session == nil {
		t.Fatal("README shows no mesh session")
	}
	if got := strings.ReplaceAll(string(session[1]), "~/.cache/portcullis", dir); got != issue {
		t.Errorf("README's issue command: got %q, want %q as the demo prints it", session[1], issue)
	}
	var out, errb bytes.Buffer
	if code := run(strings.Fields(issue)[1:], &out, &errb); code != 0 {
		t.Fatalf("%s: exit %d, %s", issue, code, errb.String())
	}
	// curl --cert C --key K --cacert CA https://ADDR/echo, as printed.
	f := strings.Fields(curl)
	if len(f) != 8 || f[0] != "curl" || f[1] != "--cert" || f[3] != "--key" || f[5] != "--cacert" || !strings.HasPrefix(f[7], "https://127.0.0.1:") {
		t.Fatalf("printed curl command: got %q", curl)
	}
	clientDir := filepath.Join(dir, "ns-allowed_-namespace-sa-client")
	if f[2] != filepath.Join(clientDir, "tls.crt") || f[4] != filepath.Join(clientDir, "tls.key") || f[6] != filepath.Join(dir, "ca.crt") {
		t.Errorf("printed curl command: got %q, want the files certs issue wrote", curl)
	}
	for i, readmeFile := range session[2:5] {
		if got := filepath.Join(dir, string(readmeFile)); got != f[2+2*i] {
			t.Errorf("README's curl: got %s, want %s", readmeFile, f[2+2*i])
		}
	}
	if want := "https://127.0.0.1:15443/allowed-path/echo"; string(session[5]) != want || !strings.HasSuffix(f[7], "/allowed-path/echo") {
		t.Errorf("README's curl: got %s, want %s", session[5], want)
	}

	resp, err := meshClient(t, dir, clientDir).Get(f[7])
	if err != nil {
		t.Fatalf("GET %s with the issued certificate: %v", f[7], err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var echo struct {
		Headers map[string][]string `json:"headers"`
	}
	if err := json.Unmarshal(body, &echo); resp.StatusCode != 200 || err != nil {
		t.Fatalf("GET %s: got %d %q, want 200 and the echo", f[7], resp.StatusCode, body)
	}
	xfcc := strings.Join(echo.Headers["X-Forwarded-Client-Cert"], ",")
	if !strings.HasPrefix(xfcc, "By=spiffe://cluster.local/ns/demo/sa/gateway;Hash=") ||
		!strings.HasSuffix(xfcc, ";URI=spiffe://cluster.local/ns/allowed-namespace/sa/client") {
		t.Errorf("echo's x-forwarded-client-cert: got %q, want the gateway's element naming the client", xfcc)
	}
	waitFor(t, "the access log line with the caller's SPIFFE ID", func() bool {
		return strings.Contains(c.stdout.String(), `"GET /allowed-path/echo HTTP/1.1" 200 `) &&
			strings.Contains(c.stdout.String(), `"spiffe://cluster.local/ns/allowed-namespace/sa/client"`+"\n")
	})
	demoDenials(t, readme, dir, clientDir, f[7])

	if resp, err := meshClient(t, dir, "").Get(f[7]); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s without a certificate: got %d, want the handshake refused", f[7], resp.StatusCode)
	}
	if got := c.waitLog(t, "caller's certificate refused"); got["reason"] != "no_certificate" || got["listener"] != "mesh" {
		t.Errorf("refusal log line: got %v, want reason no_certificate on mesh", got)
	}

	kept := []string{filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ns-demo-sa-gateway", "tls.crt")}
	var before [][]byte
	for _, p := range kept {
		b, _ := os.ReadFile(p)
		before = append(before, b)
	}
	again, _, _ := demoChild(t, "--state-dir", dir)
	again.waitLog(t, meshStart)
	for i, p := range kept {
		if now, _ := os.ReadFile(p); !bytes.Equal(now, before[i]) {
			t.Errorf("a second start rewrote %s, want it reused", p)
		}
	}
}

// TestDemoWithoutStateDir checks that the demo serves without its mesh
// listener, saying why, when its state directory cannot be made.
func TestDemoWithoutStateDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	c := startChildEnv(t, []string{"PORTCULLIS_TEST_DEMO_PORTS=0", "PORTCULLIS_CONFIG="}, "--state-dir", filepath.Join(file, "state"))
	if got := c.waitLog(t, "the demo's development CA could not be made: the demo runs without its mesh listener"); !strings.Contains(got["error"].(string), "not a directory") {
		t.Errorf("warning: got %v, want the reason", got)
	}
	web := strings.TrimSuffix(c.waitLog(t, "listening")["url"].(string), "/")
	if code, body := httpGet(t, web+"/hello"); code != 200 || body != "hello from portcullis\n" {
		t.Errorf("got %d %q, want the demo's hello", code, body)
	}
	c.cmd.Process.Kill()
	for m := range c.lines {
		if m["listener"] == "mesh" || m["message"] == meshStart {
			t.Errorf("got %v, want no mesh listener", m)
		}
	}
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestDemoStateDirSpelling checks that any state directory's name reaches
// the identity block as it is, and the printed commands paste into a shell.
func TestDemoStateDirSpelling(t *testing.T) {
	reg, err := registry(waf.New(waf.Options{}), authz.New(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"plain", "with space", `quote"d`, `back\slash`, "it's", "colon: #hash", "new\nline", "dollar $HOME `x`", "ünïcode"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), name)
			if _, err := prepareDemoState(dir); err != nil {
				t.Fatal(err)
			}
			cfg, err := routes.Parse("demo.yaml", renderDemo(demoOnFreePorts(), dir), reg)
			if err != nil {
				t.Fatalf("demo for state dir %q: %v", dir, err)
			}
			defer cfg.Close()
			if got, want := cfg.File.Identity.Bundle, filepath.Join(dir, "ca.crt"); got != want {
				t.Errorf("bundle: got %q, want %q", got, want)
			}
			issue, _ := demoMeshCommands(dir, "127.0.0.1:15443")
			out, err := exec.Command("sh", "-c", "printf %s "+strings.TrimPrefix(issue, "portcullis certs issue --dir ")).Output()
			if want := dir + "--spiffe-id" + "spiffe://cluster.local/ns/allowed-namespace/sa/client"; err != nil || string(out) != want {
				t.Errorf("the shell reads the printed command's words as %q (%v), want %q", out, err, want)
			}
		})
	}
}

// TestDemoStateDirNotUTF8 checks that a state directory whose name is not
// valid UTF-8, which the demo's YAML cannot carry unchanged, is refused
// with a reason before anything is made.
func TestDemoStateDirNotUTF8(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "caf\xe9")
	made, err := prepareDemoState(dir)
	if err == nil || !strings.Contains(err.Error(), "not valid UTF-8") || !strings.Contains(err.Error(), "--state-dir") {
		t.Fatalf("got %v, %v; want a refusal that names --state-dir", made, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the directory was made: %v", err)
	}
}

// TestDemoMeshWithCurl runs the printed commands as a newcomer would, with
// Debian's curl as the caller: its certificate is accepted and its
// principal reaches the echo, and without a certificate it is refused.
func TestDemoMeshWithCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed (Debian package curl)")
	}
	dir := t.TempDir()
	c, _, _ := demoChild(t, "--state-dir", dir)
	start := c.waitLog(t, meshStart)
	if code := run(strings.Fields(start["issue"].(string))[1:], io.Discard, io.Discard); code != 0 {
		t.Fatalf("issue: exit %d", code)
	}
	curl := start["curl"].(string)
	out, err := exec.Command("sh", "-c", strings.Replace(curl, "curl ", "curl -sS --max-time 10 ", 1)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `;URI=spiffe://cluster.local/ns/allowed-namespace/sa/client"`) {
		t.Errorf("%s: got %v %s, want the echo with the client's principal", curl, err, out)
	}
	noCert := regexp.MustCompile(`--cert \S+ --key \S+ `).ReplaceAllString(curl, "")
	if out, err := exec.Command("sh", "-c", strings.Replace(noCert, "curl ", "curl -sS --max-time 10 ", 1)).CombinedOutput(); err == nil {
		t.Errorf("%s: got %s, want curl to fail", noCert, out)
	}
}

// demoDenials checks the README's denied calls on the mesh listener: the
// allowed namespace on another path, and another namespace on the allowed
// path, each 403 "RBAC: access denied" from the seed example, as a
// certificate the printed command issues gets.
func demoDenials(t *testing.T, readme []byte, dir, clientDir, allowedURL string) {
	t.Helper()
	base := strings.TrimSuffix(allowedURL, "/allowed-path/echo")
	m := regexp.MustCompile(`(?m)^\$ curl --cert ns-allowed_-namespace-sa-client/tls.crt --key ns-allowed_-namespace-sa-client/tls.key --cacert ca.crt https://127.0.0.1:15443(/\S+)\nRBAC: access denied\n`).FindSubmatch(readme)
	o := regexp.MustCompile(`(?m)^\$ portcullis certs issue --dir ~/.cache/portcullis --spiffe-id (spiffe://cluster.local/ns/(\S+)/sa/(\S+))\n…\n\$ curl --cert (\S+)/tls.crt --key \S+ --cacert ca.crt https://127.0.0.1:15443(/allowed-path/\S+)\nRBAC: access denied\n`).FindSubmatch(readme)
	if m == nil || o == nil {
		t.Fatal("README shows no denied calls on the mesh listener")
	}
	var out, errb bytes.Buffer
	if code := run([]string{"certs", "issue", "--dir", dir, "--spiffe-id", string(o[1])}, &out, &errb); code != 0 {
		t.Fatalf("certs issue %s: exit %d, %s", o[1], code, errb.String())
	}
	for _, call := range []struct{ certDir, path string }{
		{clientDir, string(m[1])},
		{filepath.Join(dir, string(o[4])), string(o[5])},
	} {
		resp, err := meshClient(t, dir, call.certDir).Get(base + call.path)
		if err != nil {
			t.Fatalf("GET %s: %v", call.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || string(body) != "RBAC: access denied" {
			t.Errorf("GET %s as %s: got %d %q, want 403 RBAC: access denied", call.path, filepath.Base(call.certDir), resp.StatusCode, body)
		}
	}
}
