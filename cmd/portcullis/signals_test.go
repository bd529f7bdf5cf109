package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run the command as a child process: the test binary
// re-executes itself with PORTCULLIS_TEST_MAIN=1 and the command's arguments.
//
// With PORTCULLIS_TEST_DEMO_PORTS=0 the embedded demo binds port 0 on
// loopback instead of its fixed ports, so that tests of the demo run beside
// anything else on the machine.
func TestMain(m *testing.M) {
	if os.Getenv("PORTCULLIS_TEST_MAIN") == "1" {
		if os.Getenv("PORTCULLIS_TEST_DEMO_PORTS") == "0" {
			demoYAML = demoOnFreePorts()
		}
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// child is the command running in a process of its own.
type child struct {
	cmd    *exec.Cmd
	lines  chan map[string]any
	exit   chan error
	stdout *lockedBuffer // the access log, in the demo
}

// lockedBuffer is a bytes.Buffer that a process writes while a test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	return startChildEnv(t, nil, args...)
}

// startChildEnv is startChild with extra environment variables.
func startChildEnv(t *testing.T, env []string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "PORTCULLIS_TEST_MAIN=1"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := new(lockedBuffer)
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan map[string]any, 100), exit: make(chan error, 1), stdout: out}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				c.lines <- m
			}
		}
		close(c.lines)
		c.exit <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return c
}

// waitLog returns the first log line whose message is msg.
func (c *child) waitLog(t *testing.T, msg string) map[string]any {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case m, ok := <-c.lines:
			if !ok {
				t.Fatalf("process ended before logging %q", msg)
			}
			if m["message"] == msg {
				return m
			}
		case <-timeout:
			t.Fatalf("no %q log line", msg)
		}
	}
}

func TestSignals(t *testing.T) {
	dir := t.TempDir()
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	be := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		io.WriteString(w, "slow done")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go be.Serve(ln)
	defer be.Close()
	logPath := filepath.Join(dir, "access.log")
	cfgPath := filepath.Join(dir, "routes.yaml")
	routesFile := func(extra string) string {
		return fmt.Sprintf(`
admin: { address: "127.0.0.1:0" }
access_log: { format: envoy, path: %q }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: slow, match: { path: /slow }, upstream: app }%s
      - { name: hello, match: { path_prefix: / }, direct_response: { status: 200, body: "v1" } }
upstreams: [ { name: app, endpoints: [%q] } ]
`, logPath, extra, ln.Addr().String())
	}
	os.WriteFile(cfgPath, []byte(routesFile("")), 0o600)
	c := startChild(t, "--config", cfgPath, "--drain-delay", "200ms", "--drain-timeout", "10s")
	web := strings.TrimSuffix(c.waitLog(t, "listening")["url"].(string), "/")
	admin := strings.TrimSuffix(c.waitLog(t, "admin listening")["url"].(string), "/")

	body := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	poll := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: timed out", what)
			}
		}
	}

	t.Run("a bad file keeps the running configuration", func(t *testing.T) {
		os.WriteFile(cfgPath, []byte("listeners: [ { name: web, adress: x } ]\n"), 0o600)
		c.cmd.Process.Signal(syscall.SIGHUP)
		m := c.waitLog(t, "routes file has errors; keeping the running configuration")
		if e, _ := m["error"].(string); !strings.HasPrefix(e, cfgPath+":1:") {
			t.Errorf("error line: got %q, want it to start with %s:1:", e, cfgPath)
		}
		if code, b := body(web + "/"); code != 200 || b != "v1" {
			t.Errorf("after a bad file: got %d %q, want 200 v1", code, b)
		}
		if code, _ := body(admin + "/readyz"); code != 200 {
			t.Errorf("/readyz after a failed reload: got %d, want 200", code)
		}
		if _, m := body(admin + "/metrics"); !strings.Contains(m, `portcullis_config_reloads_total{result="failure"} 1`) {
			t.Errorf("metrics lack the failed reload")
		}
		if _, cfg := body(admin + "/config"); !strings.Contains(cfg, `"ok": false`) || !strings.Contains(cfg, `unknown key`) {
			t.Errorf("/config lacks the failed reload's outcome: %s", cfg)
		}
	})
	v2 := `
      - { name: v2, match: { path: /v2 }, direct_response: { status: 200, body: "v2" } }`
	var gen float64
	t.Run("SIGHUP reloads", func(t *testing.T) {
		os.WriteFile(cfgPath, []byte(routesFile(v2)), 0o600)
		c.cmd.Process.Signal(syscall.SIGHUP)
		gen = c.waitLog(t, "configuration reloaded")["generation"].(float64)
		if code, b := body(web + "/v2"); code != 200 || b != "v2" {
			t.Errorf("route /v2 after SIGHUP: got %d %q, want 200 v2", code, b)
		}
		if _, cfg := body(admin + "/config"); !strings.Contains(cfg, `"ok": true`) || strings.Contains(cfg, `unknown key`) {
			t.Errorf("/config after a good reload still shows the failed one: %s", cfg)
		}
	})
	t.Run("SIGHUP reloads an unchanged file", func(t *testing.T) {
		c.cmd.Process.Signal(syscall.SIGHUP)
		if got := c.waitLog(t, "configuration reloaded")["generation"]; got != gen+1 {
			t.Errorf("generation after SIGHUP on an unchanged file: got %v, want %v", got, gen+1)
		}
	})
	t.Run("SIGHUP moves the access log", func(t *testing.T) {
		logPath = filepath.Join(dir, "moved.log")
		os.WriteFile(cfgPath, []byte(routesFile(v2)), 0o600)
		c.cmd.Process.Signal(syscall.SIGHUP)
		c.waitLog(t, "configuration reloaded")
		body(web + "/after-move")
		poll("a line in the moved log", func() bool {
			b, _ := os.ReadFile(logPath)
			return strings.Contains(string(b), "/after-move")
		})
	})
	t.Run("SIGUSR1 reopens the access log", func(t *testing.T) {
		rotated := logPath + ".1"
		if err := os.Rename(logPath, rotated); err != nil {
			t.Fatal(err)
		}
		c.cmd.Process.Signal(syscall.SIGUSR1)
		poll("a line in the reopened log", func() bool {
			body(web + "/after-rotation")
			b, _ := os.ReadFile(logPath)
			return strings.Contains(string(b), "/after-rotation")
		})
	})
	t.Run("SIGTERM drains and exits 0", func(t *testing.T) {
		slow := make(chan string, 1)
		go func() { _, b := body(web + "/slow"); slow <- b }()
		<-arrived
		c.cmd.Process.Signal(syscall.SIGTERM)
		poll("/readyz false", func() bool { code, _ := body(admin + "/readyz"); return code == 503 })
		close(release)
		if b := <-slow; b != "slow done" {
			t.Errorf("request in flight at SIGTERM: got %q, want slow done", b)
		}
		select {
		case err := <-c.exit:
			if err != nil {
				t.Errorf("exit: %v, want status 0", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("process did not exit after the drain")
		}
	})
}

// TestSecondSignal checks that a second SIGTERM ends a drain at once.
func TestSecondSignal(t *testing.T) {
	dir := t.TempDir()
	hold := make(chan struct{})
	defer close(hold)
	arrived := make(chan struct{}, 1)
	be := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go be.Serve(ln)
	defer be.Close()
	cfgPath := filepath.Join(dir, "routes.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
admin: { address: "off" }
access_log: { path: off }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: slow, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q], timeout: 60s } ]
`, ln.Addr().String())), 0o600)
	c := startChild(t, "--config", cfgPath, "--drain-delay", "0s", "--drain-timeout", "60s")
	web := strings.TrimSuffix(c.waitLog(t, "listening")["url"].(string), "/")
	go http.Get(web + "/held")
	<-arrived
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.waitLog(t, "draining: not ready, finishing in-flight requests")
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.exit:
		if err == nil {
			t.Error("exit status 0 after a second signal, want the signal's")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a second SIGTERM did not end the drain")
	}
}

// TestConfigFromEnvironment serves the file PORTCULLIS_CONFIG names when no
// --config is given.
func TestConfigFromEnvironment(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "routes.yaml")
	os.WriteFile(cfgPath, []byte(`
admin: { address: "off" }
access_log: { path: off }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: env, match: { path_prefix: / }, direct_response: { status: 200, body: "from env" } } ] }
`), 0o600)
	c := startChildEnv(t, []string{"PORTCULLIS_CONFIG=" + cfgPath})
	if got := c.waitLog(t, "portcullis started")["config"]; got != cfgPath {
		t.Errorf("config: got %v, want %s", got, cfgPath)
	}
	web := strings.TrimSuffix(c.waitLog(t, "listening")["url"].(string), "/")
	resp, err := http.Get(web + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "from env" {
		t.Errorf("got %q, want the file's direct response", b)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
}
