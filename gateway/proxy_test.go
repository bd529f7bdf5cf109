package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/internal/loopbacktest"
)

// testBackend is an upstream a test starts: it counts requests and answers with
// what it saw, as JSON.
type testBackend struct {
	*httptest.Server
	hits atomic.Int64
}

type seen struct {
	Method, Path, RawPath, Query, Host, Proto string
	Header                                    http.Header
	Body                                      string
}

func newBackend(t *testing.T, h http.HandlerFunc) *testBackend {
	t.Helper()
	b := &testBackend{}
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(seen{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Host, r.Proto, r.Header, string(body)})
		}
	}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *testBackend) addr() string { return strings.TrimPrefix(b.URL, "http://") }

// plainGateway returns a gateway with one plain listener "web" routing every
// path of every host to the given endpoint.
func plainGateway(t *testing.T, endpoint string, extra string) *testGateway {
	return startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - { name: web, address: "127.0.0.1:0", protocols: [http1, http2] }
  - { name: h1, address: "127.0.0.1:0" }
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: slow, match: { path_prefix: /slow }, upstream: app, timeout: 200ms }
      - { name: rewrite, match: { path_prefix: /api/ }, upstream: app, prefix_rewrite: /v2/ }
      - { name: main, match: { path_prefix: / }, upstream: app }
upstreams:
  - { name: app, endpoints: ["%s"], connect_timeout: 1s %s }
`, endpoint, extra))
}

func decodeSeen(t *testing.T, body string) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("backend answer %q: %v", body, err)
	}
	return s
}

func TestProxyForwardsAndLogs(t *testing.T) {
	be := newBackend(t, nil)
	tg := plainGateway(t, be.addr(), "")
	resp, body := get(t, http.DefaultClient, tg.url("web")+"/a/./b/../c?q=1",
		"X-Forwarded-For", "1.2.3.4", "Connection", "X-Secret", "X-Secret", "drop me", "User-Agent", "test-agent")
	if resp.StatusCode != 200 {
		t.Fatalf("status: got %d, want 200", resp.StatusCode)
	}
	s := decodeSeen(t, body)
	checks := []struct{ name, got, want string }{
		{"path normalised and forwarded", s.Path, "/a/c"},
		{"query kept", s.Query, "q=1"},
		{"untrusted X-Forwarded-For appended to", s.Header.Get("X-Forwarded-For"), "1.2.3.4, 127.0.0.1"},
		{"x-envoy-external-address", s.Header.Get("X-Envoy-External-Address"), "127.0.0.1"},
		{"X-Forwarded-Proto", s.Header.Get("X-Forwarded-Proto"), "http"},
		{"X-Forwarded-Host", s.Header.Get("X-Forwarded-Host"), tg.Addr("web").String()},
		{"hop-by-hop header named in Connection dropped", s.Header.Get("X-Secret"), ""},
		{"request id passed on", s.Header.Get("X-Request-Id"), resp.Request.Header.Get("X-Request-Id")},
	}
	for _, c := range checks {
		if c.name == "request id passed on" {
			if len(s.Header.Get("X-Request-Id")) != 36 {
				t.Errorf("%s: got %q, want a generated UUID", c.name, s.Header.Get("X-Request-Id"))
			}
			continue
		}
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	e := tg.logFor(s.Header.Get("X-Request-Id"))
	wantLog := map[string]any{
		"response_code": float64(200), "route_name": "main", "path": "/a/c?q=1", "method": "GET",
		"upstream_host": be.addr(), "response_flags": "-", "user_agent": "test-agent", "protocol": "HTTP/1.1",
	}
	for k, v := range wantLog {
		if e[k] != v {
			t.Errorf("access log %s: got %v, want %v", k, e[k], v)
		}
	}
}

func TestPrefixRewriteAndOriginalPath(t *testing.T) {
	be := newBackend(t, nil)
	tg := plainGateway(t, be.addr(), "")
	_, body := get(t, http.DefaultClient, tg.url("web")+"/api/items", "X-Request-Id", "rewrite-1")
	if s := decodeSeen(t, body); s.Path != "/v2/items" {
		t.Errorf("upstream path: got %q, want /v2/items", s.Path)
	}
	e := tg.logFor("rewrite-1")
	if e["path"] != "/api/items" || e["rewritten_path"] != "/v2/items" {
		t.Errorf("logged path %v, rewritten_path %v: want the one asked for, /api/items, and /v2/items",
			e["path"], e["rewritten_path"])
	}
}

// TestUpstreamFailures checks each way an upstream exchange fails against
// Envoy's answer: status, flag, %RESPONSE_CODE_DETAILS%,
// %UPSTREAM_TRANSPORT_FAILURE_REASON% and the local reply, whose length is
// what the access log counts as sent.
func TestUpstreamFailures(t *testing.T) {
	closed := func() string { return loopbacktest.RefusedAddr(t) }
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	slow := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	reset := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.Close()
		}
	})
	const before = "upstream connect error or disconnect/reset before headers. "
	tests := []struct {
		name      string
		endpoint  string
		path      string
		status    int
		flag      string
		body      string
		details   string
		transport any // the logged reason, nil for none
	}{
		{"connection refused", closed(), "/", 503, "UF",
			before + "reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused",
			"upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}",
			"delayed_connect_error:_Connection_refused"},
		{"route timeout", slow.addr(), "/slow", 504, "UT", "upstream request timeout", "upstream_response_timeout", nil},
		{"an Upgrade header alone keeps the timeout", slow.addr(), "/slow?upgrade", 504, "UT",
			"upstream request timeout", "upstream_response_timeout", nil},
		{"upstream closes before answering", reset.addr(), "/", 503, "UC",
			before + "reset reason: connection termination", "upstream_reset_before_response_started{connection_termination}", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := plainGateway(t, tt.endpoint, "")
			id := "fail-" + strings.ReplaceAll(tt.name, " ", "-")
			resp, body := get(t, http.DefaultClient, tg.url("web")+tt.path, "X-Request-Id", id, "Upgrade", "x")
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.status, tt.body)
			}
			e := tg.logFor(id)
			for _, f := range []struct {
				key  string
				want any
			}{
				{"response_flags", tt.flag},
				{"response_code", float64(tt.status)},
				{"response_code_details", tt.details},
				{"upstream_transport_failure_reason", tt.transport},
				{"bytes_sent", float64(len(tt.body))},
			} {
				if e[f.key] != f.want {
					t.Errorf("%s: got %v, want %v", f.key, e[f.key], f.want)
				}
			}
			if resp.ContentLength != int64(len(tt.body)) {
				t.Errorf("Content-Length: got %d, want %d", resp.ContentLength, len(tt.body))
			}
		})
	}
}

func TestClientDisconnectIsDC(t *testing.T) {
	arrived := make(chan struct{})
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done() // the gateway cancels the upstream request when the client goes
	})
	tg := plainGateway(t, be.addr(), "")
	c, err := net.Dial("tcp", tg.Addr("web").String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: gone-1\r\n\r\n")
	<-arrived
	c.Close()
	e := tg.logFor("gone-1")
	if e["response_flags"] != "DC" {
		t.Errorf("flags: got %v, want DC", e["response_flags"])
	}
	if e["response_code"] != float64(0) {
		t.Errorf("code: got %v, want 0 (nothing sent)", e["response_code"])
	}
}

func TestBrokenChunkedBodyIs400(t *testing.T) {
	upstreamErr := make(chan error, 1)
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		upstreamErr <- err
	})
	tg := plainGateway(t, be.addr(), "")
	c, err := net.Dial("tcp", tg.Addr("web").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A valid first chunk, then a chunk size that is not hex.
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Request-Id: chunk-1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := readStatusLine(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "HTTP/1.1 400") {
		t.Errorf("status line: got %q, want 400", line)
	}
	select {
	case err := <-upstreamErr:
		if err == nil {
			t.Error("upstream read the whole body: got nil error, want the request aborted")
		}
	case <-time.After(time.Until(deadline())):
		t.Error("upstream request was not aborted")
	}
	if e := tg.logFor("chunk-1"); e["response_code"] != float64(400) {
		t.Errorf("logged code: got %v, want 400", e["response_code"])
	}
}

func readStatusLine(c net.Conn) (string, error) {
	buf := make([]byte, 0, 256)
	one := make([]byte, 1)
	for {
		if _, err := c.Read(one); err != nil {
			return string(buf), err
		}
		if one[0] == '\n' {
			return strings.TrimRight(string(buf), "\r"), nil
		}
		buf = append(buf, one[0])
	}
}

func TestStreamingIsNotBuffered(t *testing.T) {
	next := make(chan struct{})
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first\n"))
		w.(http.Flusher).Flush()
		<-next // the second part waits until the client has read the first
		w.Write([]byte("second\n"))
	})
	tg := plainGateway(t, be.addr(), "")
	resp, err := http.Get(tg.url("web") + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first\n" {
		t.Fatalf("first part: got %q, %v", buf, err)
	}
	close(next)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second\n" {
		t.Errorf("second part: got %q", rest)
	}
}
