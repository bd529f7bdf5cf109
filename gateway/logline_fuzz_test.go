package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/gateway/accesslog/accesslogtest"
)

// FuzzAccessLogLine sends any request (method, target, Host, one header of
// any name and value, and the same value in every header the presets log,
// X-Envoy-Original-Path included) on a real socket to gateways that log in
// the envoy, istio, istio-legacy and json formats. Each request the gateway
// served, or refused as malformed, must write exactly one line (a request
// that Go's server refused past the framing guard may write none): with the format's own fields for a text format (no value closes
// its quotes, adds a field or a request-line part, or starts a line), and
// one valid JSON object for json.
func FuzzAccessLogLine(f *testing.F) {
	f.Add("GET", "/api/x?q=1", "shop", "X-Test", "Mozilla/5.0")
	f.Add("GET", "/a%20b", "shop", "X_Envoy_Original_Path", `/x" 200 - "`)
	f.Add("POST", `/p"q\r`, "shop:80", "User-Agent", "a \"b\" \\x22 \xff\xe2\x80\xae")
	f.Add("GET", "/\xc3\xa9", "sh op", "Connection", "x-request-id, user-agent")
	f.Add("PUT", "http://shop/abs", "shop", "X-Forwarded-For", "1.2.3.4\" \"x")
	f.Add("GET", "/ HTTP/1.1\r\nHost: a\r\n\r\nGET /", "shop", "A", "\t")
	be := newRawBackend(f, nil)
	var sinks []*logSink
	for _, format := range []string{"envoy", "istio", "istio-legacy", "json"} {
		sinks = append(sinks, newLogSink(f, be.addr(), format))
	}
	f.Fuzz(func(t *testing.T, method, target, host, name, value string) {
		noCRLF := strings.NewReplacer("\r", "\x00", "\n", "\x00") // one request per connection
		method, target, host, name = noCRLF.Replace(method), noCRLF.Replace(target), noCRLF.Replace(host), noCRLF.Replace(name)
		value = noCRLF.Replace(value)
		if framing(name) {
			name = "X-" + name // a body would leave the request waiting
		}
		var raw strings.Builder
		fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\nHost: %s\r\n%s: %s\r\n", method, target, host, name, value)
		for _, h := range []string{"User-Agent", "X-Forwarded-For", "X-Request-Id", "X-Envoy-Original-Path"} {
			fmt.Fprintf(&raw, "%s: %s\r\n", h, value)
		}
		raw.WriteString("Connection: close\r\n\r\n")
		for _, s := range sinks {
			s.check(t, raw.String())
		}
	})
}

// framing reports whether a header name would give the request a body.
func framing(name string) bool {
	return strings.EqualFold(name, "Content-Length") || strings.EqualFold(name, "Transfer-Encoding") ||
		strings.EqualFold(name, "Expect")
}

// logSink is one gateway of FuzzAccessLogLine, its log written line by line
// with no buffer, and how far the fuzzer has read it.
type logSink struct {
	tg     *testGateway
	format string
	fields int // the text format's field count; 0 for json
	read   int64
}

func newLogSink(tb testing.TB, backend, format string) *logSink {
	cfg := parseT(tb, fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: rewrite, match: { path_prefix: /api/ }, upstream: app, prefix_rewrite: /v2/ }
      - { name: main, match: { path_prefix: / }, upstream: app }
upstreams: [ { name: app, endpoints: [%q] } ]
`, backend))
	s := &logSink{format: format}
	s.tg = serveWithLog(tb, cfg, accesslog.Options{Format: format, FlushInterval: -1}, zerolog.Nop())
	if text, ok := accesslog.Preset(format); ok {
		fields, ok := accesslogtest.SplitFields(operatorRE.ReplaceAllString(strings.TrimSuffix(text, "\n"), "x"))
		if !ok {
			tb.Fatalf("format %s does not split into fields", format)
		}
		s.fields = len(fields)
	}
	return s
}

var operatorRE = regexp.MustCompile(`%[A-Z_]+(\([^)]*\))?(:[0-9]+)?%`)

// check sends raw and checks the log lines written since the last check.
func (s *logSink) check(t *testing.T, raw string) {
	c, err := net.Dial("tcp", s.tg.Addr("web").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, raw)
	resp, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%s: reading the response: %v", s.format, err)
	}
	b, err := os.ReadFile(s.tg.logPath)
	if err != nil {
		t.Fatal(err)
	}
	fresh := string(b[s.read:])
	s.read = int64(len(b))
	if fresh == "" && !strings.Contains(string(resp), "\r\nDate: ") {
		// Go's server refused the request itself (its answers carry no
		// Date), past the framing guard that logs the refusals it makes.
		return
	}
	if strings.Count(fresh, "\n") != 1 || !strings.HasSuffix(fresh, "\n") {
		t.Fatalf("%s: request %q (answer %q) wrote %q, want one line", s.format, raw, resp, fresh)
	}
	line := strings.TrimSuffix(fresh, "\n")
	if s.fields == 0 {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || line[0] != '{' {
			t.Fatalf("json: request %q wrote %q, want one object: %v", raw, line, err)
		}
		return
	}
	fields, ok := accesslogtest.SplitFields(line)
	if !ok || len(fields) != s.fields {
		t.Fatalf("%s: request %q wrote %q: %d fields (split ok: %v), want %d", s.format, raw, line, len(fields), ok, s.fields)
	}
	if parts := strings.Count(fields[1], " "); parts != 2 {
		t.Fatalf("%s: request %q wrote request line %s, want method, path and protocol", s.format, raw, fields[1])
	}
}
