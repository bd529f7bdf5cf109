package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/routes"
)

// settingsYAML is a routes file whose admin and access_log sections the
// reload tests change; the route answers with the request id it got.
func settingsYAML(listen, admin, accessLog string) string {
	return fmt.Sprintf(`
admin: { address: %q }
access_log: %s
listeners: [ { name: web, address: %q } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: hello, match: { path_prefix: / }, direct_response: { status: 200, body: "hi" } } ] }
`, admin, accessLog, listen)
}

// configSection reads one top-level section of the running configuration
// from /config.
func configSection(t *testing.T, adminAddr net.Addr, section string) map[string]any {
	t.Helper()
	var page struct {
		Config map[string]json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal([]byte(getConfigPage(t, "http://"+adminAddr.String()+"/config")), &page); err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(page.Config[section], &out); err != nil {
		t.Fatalf("/config %s: %v", section, err)
	}
	return out
}

func fileHas(path, s string) bool {
	b, _ := os.ReadFile(path)
	return strings.Contains(string(b), s)
}

// startOwnLog serves cfg until the test ends with the access log that cfg
// describes, as the command does.
func startOwnLog(t *testing.T, cfg *routes.Config) *testGateway {
	t.Helper()
	return &testGateway{Gateway: serveUntilEnd(t, cfg, Options{Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)}), t: t}
}

// TestReloadAppliesAccessLog changes access_log's path, format and text by
// reloads: each takes effect for the next request, a request in flight
// across reloads writes its line to the log it started with, /config
// shows the log in force, and a log that cannot be opened fails the
// reload and leaves the running one writing.
func TestReloadAppliesAccessLog(t *testing.T) {
	dir := t.TempDir()
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			arrived <- struct{}{}
			<-release
		}
		w.Write([]byte("ok"))
	})
	yaml := func(accessLog string) string {
		return fmt.Sprintf(`
admin: { address: "127.0.0.1:0" }
access_log: %s
listeners: [ { name: web, address: "LISTEN" } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: app, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, accessLog, be.addr())
	}
	first := filepath.Join(dir, "first.log")
	tg := startOwnLog(t, parseT(t, strings.Replace(yaml(fmt.Sprintf(`{ format: json, path: %q }`, first)), "LISTEN", "127.0.0.1:0", 1)))
	web := tg.url("web")
	listen := tg.Addr("web").String()
	reload := func(t *testing.T, accessLog string) error {
		t.Helper()
		return tg.Reload(parseT(t, strings.Replace(yaml(accessLog), "LISTEN", listen, 1)))
	}
	request := func(t *testing.T, id string) {
		t.Helper()
		if resp, _ := get(t, http.DefaultClient, web+"/"+id, "X-Request-Id", id); resp.StatusCode != 200 {
			t.Fatalf("GET /%s: got %d, want 200", id, resp.StatusCode)
		}
	}

	// A request in flight across the reload keeps the log it began with.
	slow := make(chan struct{})
	go func() {
		defer close(slow)
		req, _ := http.NewRequest("GET", web+"/slow", nil)
		req.Header.Set("X-Request-Id", "in-flight")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-arrived

	// Two reloads pass while it runs: one that keeps the log, whose
	// snapshot is retired at once, then one that changes it.
	if err := reload(t, fmt.Sprintf(`{ format: json, path: %q }`, first)); err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(dir, "second.log")
	if err := reload(t, fmt.Sprintf(`{ format: json, path: %q }`, second)); err != nil {
		t.Fatal(err)
	}
	request(t, "after-path")
	waitUntil(t, "after-path in the new file", func() bool { return fileHas(second, `"request_id":"after-path"`) })
	close(release)
	<-slow
	waitUntil(t, "the in-flight request's line in the first file", func() bool { return fileHas(first, `"in-flight"`) })
	if fileHas(first, "after-path") || fileHas(second, "in-flight") {
		t.Errorf("lines in the wrong file: want each request's line in the log in force when it began")
	}
	if got := configSection(t, tg.AdminAddr(), "access_log")["path"]; got != second {
		t.Errorf("/config access_log.path: got %v, want %s", got, second)
	}

	steps := []struct {
		name, accessLog, id, want string
	}{
		{"format", fmt.Sprintf(`{ format: envoy, path: %q }`, second), "after-format", `"GET /after-format HTTP/1.1" 200 -`},
		{"text", fmt.Sprintf(`{ text: "custom %%REQ(X-REQUEST-ID)%% %%RESPONSE_CODE%%\n", path: %q }`, second), "after-text", "custom after-text 200\n"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := reload(t, s.accessLog); err != nil {
				t.Fatal(err)
			}
			request(t, s.id)
			waitUntil(t, s.name+" line", func() bool { return fileHas(second, s.want) })
		})
	}

	t.Run("a log that cannot be opened fails the reload", func(t *testing.T) {
		notAFile := filepath.Join(dir, "a-directory")
		if err := os.Mkdir(notAFile, 0o755); err != nil {
			t.Fatal(err)
		}
		err := reload(t, fmt.Sprintf(`{ format: json, path: %q }`, notAFile))
		if err == nil || !strings.Contains(err.Error(), "access log") || !errors.Is(err, syscall.EISDIR) {
			t.Fatalf("got %v, want the access log's open error", err)
		}
		if st := tg.Status(); st.OK || !strings.Contains(st.Error, "access log") {
			t.Errorf("status: got %+v, want the failure", st)
		}
		request(t, "after-failure")
		waitUntil(t, "the running log writes on", func() bool { return fileHas(second, "custom after-failure 200") })
		if got := configSection(t, tg.AdminAddr(), "access_log")["text"]; !strings.HasPrefix(fmt.Sprint(got), "custom") {
			t.Errorf("/config access_log.text: got %v, want the running one", got)
		}
	})

	t.Run("off", func(t *testing.T) {
		if err := reload(t, `{ path: "off" }`); err != nil {
			t.Fatal(err)
		}
		request(t, "after-off")
		// A request after it that is logged shows the line of after-off
		// would have been written by now.
		if err := reload(t, fmt.Sprintf(`{ format: json, path: %q }`, second)); err != nil {
			t.Fatal(err)
		}
		request(t, "after-on")
		waitUntil(t, "after-on line", func() bool { return fileHas(second, `"after-on"`) })
		if fileHas(second, "after-off") || fileHas(first, "after-off") {
			t.Error("a request was logged with access_log off")
		}
	})

	t.Run("an unchanged access_log keeps its logger", func(t *testing.T) {
		before := tg.snap.Load().access
		if err := reload(t, fmt.Sprintf(`{ format: json, path: %q }`, second)); err != nil {
			t.Fatal(err)
		}
		if tg.snap.Load().access != before || before.snapshots.Load() != 1 {
			t.Error("the reload opened the access log anew, want it kept")
		}
	})
}

// TestReloadMovesAdmin changes admin.address by reloads: the admin server
// moves to the new address and the old one stops accepting, "off" stops it,
// an address that cannot be bound fails the reload with the old server
// serving, and /config shows the address in force.
func TestReloadMovesAdmin(t *testing.T) {
	const accessLog = `{ path: "off" }`
	tg := startGatewayWith(t, parseT(t, settingsYAML("127.0.0.1:0", "127.0.0.1:0", accessLog)))
	listen := tg.Addr("web").String()
	reload := func(t *testing.T, admin string) error {
		t.Helper()
		return tg.Reload(parseT(t, settingsYAML(listen, admin, accessLog)))
	}
	refuses := func(a net.Addr) func() bool {
		return func() bool {
			c, err := net.Dial("tcp", a.String())
			if err == nil {
				c.Close()
			}
			return err != nil
		}
	}
	first := tg.AdminAddr()

	t.Run("an unchanged address keeps the server", func(t *testing.T) {
		if err := reload(t, "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if got := tg.AdminAddr(); got.String() != first.String() {
			t.Errorf("admin address: got %v, want %v kept", got, first)
		}
	})

	t.Run("a new address", func(t *testing.T) {
		// Another loopback address, so the port can be 0 and still differ.
		if err := reload(t, "127.0.0.2:0"); err != nil {
			t.Fatal(err)
		}
		moved := tg.AdminAddr()
		if !strings.HasPrefix(moved.String(), "127.0.0.2:") {
			t.Fatalf("admin address: got %v, want one on 127.0.0.2", moved)
		}
		if got := configSection(t, moved, "admin")["address"]; got != "127.0.0.2:0" {
			t.Errorf("/config admin.address: got %v, want 127.0.0.2:0", got)
		}
		waitUntil(t, "the old admin address to refuse", refuses(first))
	})

	t.Run("an address in use fails the reload", func(t *testing.T) {
		running := tg.AdminAddr()
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		err = reload(t, busy.Addr().String())
		if err == nil || !strings.Contains(err.Error(), "admin.address") {
			t.Fatalf("got %v, want an error naming admin.address", err)
		}
		if got := tg.AdminAddr(); got.String() != running.String() {
			t.Errorf("admin address: got %v, want %v kept", got, running)
		}
		if got := configSection(t, running, "admin")["address"]; got != "127.0.0.2:0" {
			t.Errorf("/config admin.address: got %v, want the running 127.0.0.2:0", got)
		}
	})

	t.Run("off", func(t *testing.T) {
		running := tg.AdminAddr()
		if err := reload(t, "off"); err != nil {
			t.Fatal(err)
		}
		if a := tg.AdminAddr(); a != nil {
			t.Errorf("admin address: got %v, want none", a)
		}
		waitUntil(t, "the admin address to refuse", refuses(running))
	})

	t.Run("on again", func(t *testing.T) {
		if err := reload(t, "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		a := tg.AdminAddr()
		if a == nil {
			t.Fatal("admin address: got none, want one")
		}
		if resp, _ := get(t, http.DefaultClient, "http://"+a.String()+"/readyz"); resp.StatusCode != 200 {
			t.Errorf("/readyz: got %d, want 200", resp.StatusCode)
		}
	})
}

// TestStatusBeforeAnyReload checks that the first load shows on /config and
// in the metrics as the last successful one, and that a good reload after a
// failed one clears the failure.
func TestStatusBeforeAnyReload(t *testing.T) {
	tg := startGatewayWith(t, parseT(t, settingsYAML("127.0.0.1:0", "127.0.0.1:0", `{ path: "off" }`)))
	page := func() ReloadStatus {
		var p struct{ Reload ReloadStatus }
		if err := json.Unmarshal([]byte(getConfigPage(t, "http://"+tg.AdminAddr().String()+"/config")), &p); err != nil {
			t.Fatal(err)
		}
		return p.Reload
	}
	st := page()
	if !st.OK || st.Time.IsZero() || st.Error != "" || st.Generation != 0 || st.Source != tg.Config().Source {
		t.Errorf("/config before any reload: got %+v, want the first load, ok, generation 0", st)
	}
	if ts := metricValue(t, tg.Gateway, "portcullis_config_last_reload_success_timestamp_seconds", ""); ts < float64(st.Time.Unix()-1) {
		t.Errorf("last reload success timestamp: got %v, want the first load's time %d", ts, st.Time.Unix())
	}
	if n := metricValue(t, tg.Gateway, "portcullis_config_reloads_total", ""); n != 0 {
		t.Errorf("reloads: got %v, want the first load not counted as one", n)
	}

	tg.ReloadFailed("routes.yaml", errors.New("routes.yaml:3:1: something wrong"))
	if st := page(); st.OK || st.Error == "" {
		t.Errorf("/config after a failed reload: got %+v, want the error", st)
	}
	if err := tg.Reload(parseT(t, settingsYAML(tg.Addr("web").String(), "127.0.0.1:0", `{ path: "off" }`))); err != nil {
		t.Fatal(err)
	}
	if st := page(); !st.OK || st.Error != "" || st.Generation != 1 {
		t.Errorf("/config after a good reload: got %+v, want ok, no error, generation 1", st)
	}
}
