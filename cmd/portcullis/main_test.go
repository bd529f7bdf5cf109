package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway"
	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "portcullis ") {
		t.Errorf("got %d %q, want 0 and a version line", code, out.String())
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, demoConfig(""), 0o600)
	os.WriteFile(bad, []byte(`listeners:
  - { name: web, address: "127.0.0.1:0", adress: x }
virtual_hosts:
  - name: v
    hosts: ["*"]
    routes:
      - { name: api, upstream: shop }
`), 0o600)
	t.Run("clean file", func(t *testing.T) {
		var out, errb bytes.Buffer
		code := run([]string{"validate", good}, &out, &errb)
		if code != 0 || !strings.Contains(out.String(), "good.yaml: ok") || strings.Count(out.String(), "\n") != 1 {
			t.Errorf("got exit %d, stdout %q, stderr %q; want 0 and one summary line", code, out.String(), errb.String())
		}
	})
	t.Run("admin address off loopback warns", func(t *testing.T) {
		exposed := filepath.Join(dir, "exposed.yaml")
		os.WriteFile(exposed, []byte(strings.Replace(string(demoConfig("")), `"127.0.0.1:9901"`, `"0.0.0.0:9901"`, 1)), 0o600)
		var out, errb bytes.Buffer
		code := run([]string{"validate", good, exposed}, &out, &errb)
		want := exposed + `: warning: admin.address "0.0.0.0:9901" is not a loopback address: the admin port serves /config, /metrics, /upstreams and /debug/pprof without authentication`
		if code != 0 || !strings.HasPrefix(errb.String(), want) || strings.Count(errb.String(), "\n") != 1 ||
			!strings.Contains(out.String(), "exposed.yaml: ok") {
			t.Errorf("got exit %d, stdout %q, stderr %q; want 0, both files ok and one warning starting %q", code, out.String(), errb.String(), want)
		}
	})
	t.Run("every error with file:line:column", func(t *testing.T) {
		var out, errb bytes.Buffer
		code := run([]string{"validate", good, bad}, &out, &errb)
		if code != 1 {
			t.Errorf("exit: got %d, want 1", code)
		}
		lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
		if len(lines) < 2 {
			t.Fatalf("errors: got %q, want at least two", errb.String())
		}
		pos := regexp.MustCompile(`^` + regexp.QuoteMeta(bad) + `:\d+:\d+: `)
		for _, l := range lines {
			if !pos.MatchString(l) {
				t.Errorf("error line %q lacks file:line:column", l)
			}
		}
		for _, want := range []string{`unknown key "adress"`, `upstream "shop" is not defined`} {
			if !strings.Contains(errb.String(), want) {
				t.Errorf("errors %q: want one containing %q", errb.String(), want)
			}
		}
	})
}

// TestDemo serves the embedded demo (its addresses moved to free ports) and
// walks the README's curl session against it.
func TestDemo(t *testing.T) {
	reg, err := registry(waf.New(waf.Options{}), authz.New(nil))
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	if _, err := prepareDemoState(state); err != nil {
		t.Fatal(err)
	}
	cfg, err := routes.Parse("demo.yaml", renderDemo(demoOnFreePorts(), state), reg)
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "access.log")
	access, err := accesslog.New(accesslog.Options{Format: cfg.File.AccessLog.Format, Text: cfg.File.AccessLog.Text, Path: logPath})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(cfg, gateway.Options{Log: zerolog.Nop(), AccessLog: access})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gw.Shutdown(ctx)
		access.Close()
	})
	plain := "http://localhost:" + portOf(gw.Addr("http").String())
	secure := "https://localhost:" + portOf(gw.Addr("https").String())
	insecure := &tls.Config{InsecureSkipVerify: true} // the demo's certificate is made at start
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: insecure, ForceAttemptHTTP2: true}}
	h3t := &http3.Transport{TLSClientConfig: insecure}
	defer h3t.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	tests := []struct {
		name   string
		client *http.Client
		url    string
		host   string
		status int
		proto  int
		body   string
	}{
		{"direct response", http.DefaultClient, plain + "/hello", "", 200, 1, "hello from portcullis\n"},
		{"echo upstream", http.DefaultClient, plain + "/anything?x=1", "", 200, 1, `"query": "x=1"`},
		{"redirect", noRedirect, plain + "/old", "", 301, 1, ""},
		{"HTTP/2 over TLS", h2, secure + "/echo", "", 200, 2, `"protocol": "HTTP/1.1"`},
		{"HTTP/3", &http.Client{Transport: h3t}, secure + "/echo", "", 200, 3, `"path": "/echo"`},
		{"unknown host", http.DefaultClient, plain + "/", "example.com", 404, 1, ""},
		{"wildcard host", http.DefaultClient, plain + "/", "app.localhost", 200, 1, `"host": "app.localhost"`},
		{"attack", http.DefaultClient, plain + "/?q=<script>alert(1)</script>", "", 403, 1, `{"status":403,"error":"The request was blocked.","request_id":"`},
		{"attack over HTTP/3", &http.Client{Transport: h3t}, secure + "/echo?id=1'%20UNION%20SELECT%20password%20FROM%20users--", "", 403, 3, `"status":403`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tt.url, nil)
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := tt.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || resp.ProtoMajor != tt.proto {
				t.Fatalf("got %d over %s, want %d over HTTP/%d", resp.StatusCode, resp.Proto, tt.status, tt.proto)
			}
			if !strings.Contains(string(body), tt.body) {
				t.Errorf("body: got %q, want it to contain %q", body, tt.body)
			}
			if tt.status == 200 && resp.Header.Get("X-Served-By") != "portcullis" {
				t.Errorf("x-served-by: got %q, want portcullis (the headers plugin)", resp.Header.Get("X-Served-By"))
			}
		})
	}
	t.Run("README's attack", func(t *testing.T) { readmeAttack(t, plain) })
	admin := "http://" + gw.AdminAddr().String()
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), `istio_requests_total{`) {
		t.Errorf("metrics lack istio_requests_total")
	}
}

// readmeAttack sends the attack the README's curl session shows to the
// demo at base, and checks that the answer is the one the README prints,
// but for the request id.
func readmeAttack(t *testing.T, base string) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\$ curl -s 'localhost:8080(/\?q=[^']+)'.*\n(.*)\n`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README shows no attack with curl")
	}
	resp, err := http.Get(base + string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The id is the gateway's own, new for each request: the README
	// writes it "…".
	shown := regexp.MustCompile(`"request_id":"[0-9a-f-]{36}"`).ReplaceAllLiteral(body, []byte(`"request_id":"…"`))
	want := string(m[2]) + "\n"
	if resp.StatusCode != http.StatusForbidden || string(shown) != want {
		t.Errorf("got %d %q, want 403 %q", resp.StatusCode, body, want)
	}
}

// demoOnFreePorts is the embedded demo with its addresses moved to port 0
// on loopback.
func demoOnFreePorts() []byte {
	return []byte(strings.NewReplacer(`"127.0.0.1:8080"`, `"127.0.0.1:0"`, `"127.0.0.1:8443"`, `"127.0.0.1:0"`,
		`"127.0.0.1:9901"`, `"127.0.0.1:0"`, `"127.0.0.1:15443"`, `"127.0.0.1:0"`, `"127.0.0.1:3128"`, `"127.0.0.1:0"`).Replace(string(demoYAML)))
}

func portOf(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

// readmeYAML returns the YAML block that follows the README's comment
// <!-- name: … -->.
func readmeYAML(t *testing.T, name string) []byte {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- " + name + "[^>]*-->\n```yaml\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatalf("README has no %s block", name)
	}
	return m[1]
}

// TestReadmeRoutesExample loads the routes file the README shows.
func TestReadmeRoutesExample(t *testing.T) {
	reg, _ := registry(waf.New(waf.Options{}), authz.New(nil))
	cfg, err := routes.Parse("README.md", readmeYAML(t, "routes-example"), reg)
	if err != nil {
		t.Fatalf("README routes example: %v", err)
	}
	defer cfg.Close()
	rule, _ := cfg.Table.Match("api.shop.example.com", "/api/items", "GET", http.Header{})
	if rule == nil || rule.Name != "api" {
		t.Fatalf("README example: /api/items on api.shop.example.com did not route to api")
	}
	if p, ok := rule.Rewrite("/api/items"); p != "/items" || !ok {
		t.Errorf("README example: /api/items on api.shop.example.com did not route to api with its rewrite")
	}
}

// TestReadmeErrorsExample checks that the error lines the README shows are
// what the loader prints for the files in routes/testdata/bad.
func TestReadmeErrorsExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- errors-example[^>]*-->\n```\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no errors example block")
	}
	goldens, _ := filepath.Glob("../../routes/testdata/bad/*.golden")
	var all strings.Builder
	for _, g := range goldens {
		b, _ := os.ReadFile(g)
		all.Write(b)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(m[1])), "\n") {
		if !strings.Contains(all.String(), line+"\n") {
			t.Errorf("README error line %q is not in any golden file", line)
		}
	}
}
