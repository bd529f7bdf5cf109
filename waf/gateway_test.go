package waf_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway"
	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

// app is an upstream on loopback that counts the requests it gets and
// answers by path: /leaks/sql with a page that shows a database error,
// /leaks/stream with a body it sends in two parts, the second only once
// the test has read the first; anything else with the body it got.
type app struct {
	addr  string
	hits  atomic.Int64
	first chan struct{} // closed by the test once it read /leaks/stream's first part
}

func newApp(t *testing.T) *app {
	a := &app{first: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(a.serve)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	a.addr = ln.Addr().String()
	return a
}

func (a *app) serve(w http.ResponseWriter, r *http.Request) {
	a.hits.Add(1)
	switch r.URL.Path {
	case "/leaks/sql", "/watch-leaks/sql":
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>Error: You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''' at line 1</body></html>")
	case "/leaks/stream":
		w.Header().Set("Content-Type", "application/octet-stream")
		io.WriteString(w, strings.Repeat("a", 4096))
		w.(http.Flusher).Flush()
		select {
		case <-a.first:
			io.WriteString(w, "tail")
		case <-time.After(10 * time.Second):
			io.WriteString(w, "late") // the client never got the first part
		}
	default:
		io.Copy(w, r.Body)
	}
}

// wafGateway is a gateway with the WAF on loopback.
type wafGateway struct {
	gw        *gateway.Gateway
	base      string
	logPath   string
	auditPath string
	reg       *prometheus.Registry
	plugins   *plugins.Registry
	waf       *waf.Plugin
	src       string
}

// startWAFGateway serves four routes to a: / with the default profile,
// /detect/ with a profile in detect mode, /leaks/ with one that inspects
// responses and /watch-leaks/ with one that inspects them in detect mode;
// the audit log goes to a file.
func startWAFGateway(t *testing.T, a *app) *wafGateway {
	dir := t.TempDir()
	wg := &wafGateway{logPath: filepath.Join(dir, "access.log"), auditPath: filepath.Join(dir, "audit.log"), reg: prometheus.NewRegistry()}
	wg.src = fmt.Sprintf(`admin: { address: "off" }
listeners: [{ name: web, address: "127.0.0.1:0" }]
upstreams: [{ name: app, endpoints: ["%s"] }]
waf:
  audit_log: { path: %s }
  profiles:
    watch: { mode: detect }
    leaks: { response: { inspect: true, mime_types: [text/html] } }
    watch-leaks: { mode: detect, response: { inspect: true, mime_types: [text/html] } }
virtual_hosts:
  - name: site
    hosts: ["*"]
    plugins: [{ waf: default }]
    routes:
      - { name: detect, match: { path_prefix: /detect/ }, upstream: app, plugins: [{ waf: watch }] }
      - { name: leaks, match: { path_prefix: /leaks/ }, upstream: app, plugins: [{ waf: leaks }] }
      - { name: watch-leaks, match: { path_prefix: /watch-leaks/ }, upstream: app, plugins: [{ waf: watch-leaks }] }
      - { name: main, upstream: app }
`, a.addr, wg.auditPath)
	var err error
	wg.waf = waf.New(waf.Options{Metrics: wg.reg})
	wg.plugins, err = plugins.NewRegistry(wg.waf.Factory())
	if err != nil {
		t.Fatal(err)
	}
	cfg := wg.load(t)
	access, err := accesslog.New(accesslog.Options{Format: "json", Path: wg.logPath})
	if err != nil {
		t.Fatal(err)
	}
	wg.gw, err = gateway.New(cfg, gateway.Options{Log: zerolog.Nop(), AccessLog: access})
	if err != nil {
		t.Fatal(err)
	}
	if err := wg.gw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		wg.gw.Shutdown(ctx) // it closes the access log, which it owns
	})
	wg.base = "http://" + wg.gw.Addr("web").String()
	return wg
}

func (wg *wafGateway) load(t *testing.T) *routes.Config {
	cfg, err := routes.Parse("routes.yaml", []byte(wg.src), wg.plugins)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// send sends a request with an id of its own and returns the response,
// its body read.
func (wg *wafGateway) send(t *testing.T, method, path, ctype, body, id string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, wg.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Request-Id", id)
	req.Header.Set("User-Agent", "Mozilla/5.0")
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// logFor returns the access-log line of the request with id.
func (wg *wafGateway) logFor(t *testing.T, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range jsonLines(t, wg.logPath) {
			if m["request_id"] == id {
				return m
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no access-log line for %s", id)
	return nil
}

// jsonLines reads a file of JSON objects, one a line.
func jsonLines(t *testing.T, path string) []map[string]any {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// metric sums the samples of a metric whose labels include want.
func (wg *wafGateway) metric(t *testing.T, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := wg.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue next
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// histogramCount is the number of observations of a histogram for a
// profile.
func (wg *wafGateway) histogramCount(t *testing.T, name, profile string) uint64 {
	t.Helper()
	mfs, err := wg.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == name && m.GetLabel()[0].GetValue() == profile {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}
