package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// demoChild runs the embedded demo, on free ports and with a state
// directory of the test's unless args give one, in a process of its own and
// returns it with its web and admin base URLs.
func demoChild(t *testing.T, args ...string) (c *child, web, admin string) {
	t.Helper()
	c = startChildEnv(t, []string{"PORTCULLIS_TEST_DEMO_PORTS=0", "PORTCULLIS_CONFIG="}, append([]string{"--state-dir", t.TempDir()}, args...)...)
	if got := c.waitLog(t, "portcullis started")["config"]; got != "embedded demo" {
		t.Fatalf("config: got %v, want the embedded demo", got)
	}
	web = strings.TrimSuffix(c.waitLog(t, "listening")["url"].(string), "/")
	admin = strings.TrimSuffix(c.waitLog(t, "admin listening")["url"].(string), "/")
	return c, web, admin
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// configPage is what /config says besides the configuration.
type configPage struct {
	Version string `json:"version"`
	Source  string `json:"source"`
	Reload  struct {
		Generation int       `json:"generation"`
		Time       time.Time `json:"time"`
		OK         bool      `json:"ok"`
		Error      string    `json:"error"`
	} `json:"reload"`
}

func readConfigPage(t *testing.T, admin string) configPage {
	t.Helper()
	_, body := httpGet(t, admin+"/config")
	var p configPage
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("/config: %v", err)
	}
	return p
}

// TestDemoSurvivesSIGHUP sends SIGHUP to the demo, twice: each re-reads the
// embedded demo and counts as a reload, the process keeps serving, and
// /config shows the first load as good before any reload. Then Ctrl-C
// (SIGINT) drains without the delay, which here is a minute.
func TestDemoSurvivesSIGHUP(t *testing.T) {
	c, web, admin := demoChild(t, "--drain-delay", "60s")

	p := readConfigPage(t, admin)
	if !p.Reload.OK || p.Reload.Time.IsZero() || p.Reload.Generation != 0 || p.Source != "demo.yaml" {
		t.Errorf("/config before any reload: got %+v, want the first load, good, generation 0", p)
	}
	_, metrics := httpGet(t, admin+"/metrics")
	if m := regexp.MustCompile(`(?m)^portcullis_config_last_reload_success_timestamp_seconds (\S+)$`).FindStringSubmatch(metrics); m == nil || m[1] == "0" {
		t.Errorf("last reload success timestamp: got %v, want the first load's time", m)
	}

	for gen := 1; gen <= 2; gen++ {
		c.cmd.Process.Signal(syscall.SIGHUP)
		if got := c.waitLog(t, "configuration reloaded")["generation"]; got != float64(gen) {
			t.Errorf("reload after SIGHUP: got generation %v, want %d", got, gen)
		}
		if code, body := httpGet(t, web+"/hello"); code != 200 || body != "hello from portcullis\n" {
			t.Errorf("after SIGHUP %d: got %d %q, want the demo's hello", gen, code, body)
		}
		if p := readConfigPage(t, admin); !p.Reload.OK || p.Reload.Generation != gen || p.Reload.Error != "" {
			t.Errorf("/config after SIGHUP %d: got %+v, want generation %d, good", gen, p.Reload, gen)
		}
	}

	// A kept-alive connection is open, as a browser's would be.
	if code, _ := httpGet(t, web+"/hello"); code != 200 {
		t.Fatalf("before Ctrl-C: got %d, want 200", code)
	}
	start := time.Now()
	c.cmd.Process.Signal(syscall.SIGINT)
	if d := c.waitLog(t, "draining: not ready, finishing in-flight requests"); d["signal"] != "interrupt" || d["delay"] != float64(0) {
		t.Errorf("drain on SIGINT: got %v, want signal interrupt and no delay", d)
	}
	select {
	case err := <-c.exit:
		if err != nil {
			t.Errorf("exit after Ctrl-C: %v, want status 0", err)
		}
		t.Logf("exited %v after SIGINT", time.Since(start).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not exit within 30s of Ctrl-C; with the minute's drain delay it would take 60s")
	}
}

// TestSIGTERMKeepsTheDrainDelay checks that SIGTERM, unlike SIGINT, keeps
// serving new connections for --drain-delay while /readyz is false; a
// second SIGTERM then ends the process.
func TestSIGTERMKeepsTheDrainDelay(t *testing.T) {
	c, web, admin := demoChild(t, "--drain-delay", "60s")
	c.cmd.Process.Signal(syscall.SIGTERM)
	if d := c.waitLog(t, "draining: not ready, finishing in-flight requests"); d["signal"] != "terminated" || d["delay"] != float64(60000) {
		t.Errorf("drain on SIGTERM: got %v, want signal terminated and the 60s delay", d)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, _ := httpGet(t, admin+"/readyz"); code == 503 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz during the delay: still 200, want 503")
		}
	}
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := fresh.Get(web + "/hello")
	if err != nil {
		t.Fatalf("a new connection during the delay: %v, want it served", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a new connection during the delay: got %d, want 200", resp.StatusCode)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exit:
	case <-time.After(30 * time.Second):
		t.Fatal("a second SIGTERM did not end the process")
	}
}

// TestOneVersion checks that the binary's version command, its start-up
// line, /config and both build metrics give the same version.
func TestOneVersion(t *testing.T) {
	c := startChildEnv(t, []string{"PORTCULLIS_TEST_DEMO_PORTS=0", "PORTCULLIS_CONFIG="}, "--state-dir", t.TempDir())
	defer c.cmd.Process.Signal(syscall.SIGINT)
	want := appVersion()
	if started := c.waitLog(t, "portcullis started"); started["version"] != want || started["go"] != runtime.Version() {
		t.Errorf("start-up line: got version %v, go %v; want %s, %s", started["version"], started["go"], want, runtime.Version())
	}
	admin := strings.TrimSuffix(c.waitLog(t, "admin listening")["url"].(string), "/")
	var out strings.Builder
	if code := run([]string{"version"}, &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), "portcullis "+want+" ") {
		t.Errorf("version command: got %q, want portcullis %s …", out.String(), want)
	}
	if p := readConfigPage(t, admin); p.Version != want {
		t.Errorf("/config version: got %q, want %q", p.Version, want)
	}
	_, metrics := httpGet(t, admin+"/metrics")
	for _, series := range []string{`portcullis_build_info{go_version="` + runtime.Version() + `",version="` + want + `"} 1`,
		`istio_build{component="proxy",tag="` + want + `"} 1`} {
		if !strings.Contains(metrics, series) {
			t.Errorf("metrics lack %s", series)
		}
	}
}
