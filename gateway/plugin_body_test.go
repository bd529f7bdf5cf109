package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/portcullis-gw/portcullis/plugins"
)

// bodyLog is what an upstream made of the request bodies it received:
// "whole:<body>" for a request whose body ended as its framing said,
// "broken" for one that never did.
type bodyLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *bodyLog) add(s string) {
	l.mu.Lock()
	l.seen = append(l.seen, s)
	l.mu.Unlock()
}

func (l *bodyLog) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range l.seen {
		if v == s {
			return true
		}
	}
	return false
}

func (l *bodyLog) whole() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, v := range l.seen {
		if strings.HasPrefix(v, "whole:") {
			out = append(out, v)
		}
	}
	return out
}

// h1BodyBackend is an HTTP/1 upstream that logs each request body it reads
// whole by its Content-Length or chunks, and answers 200.
func h1BodyBackend(t *testing.T, l *bodyLog) string {
	b := newRawBackend(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			l.add("broken")
			return
		}
		l.add("whole:" + string(body))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	})
	return b.addr()
}

// h2BodyBackend is an h2c upstream, on raw frames, that logs each stream's
// body when the stream ends (whatever its content-length said) and answers
// 200, and logs "broken" for a stream the gateway reset.
func h2BodyBackend(t *testing.T, l *bodyLog) string {
	return serveRaw(t, nil, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := io.ReadFull(br, make([]byte, len(http2.ClientPreface))); err != nil {
			return
		}
		w := &h2Writer{fr: http2.NewFramer(c, br)}
		w.enc = hpack.NewEncoder(&w.buf)
		w.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
		if w.fr.WriteSettings() != nil {
			return
		}
		bodies := map[uint32]*bytes.Buffer{}
		end := func(id uint32) {
			l.add("whole:" + bodies[id].String())
			w.headers(id, true, ":status", "200")
		}
		for {
			f, err := w.fr.ReadFrame()
			if err != nil {
				return
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					w.fr.WriteSettingsAck()
				}
			case *http2.MetaHeadersFrame:
				bodies[f.StreamID] = new(bytes.Buffer)
				if f.StreamEnded() {
					end(f.StreamID)
				}
			case *http2.DataFrame:
				bodies[f.StreamID].Write(f.Data())
				if len(f.Data()) > 0 {
					w.fr.WriteWindowUpdate(0, uint32(len(f.Data())))
				}
				if f.StreamEnded() {
					end(f.StreamID)
				}
			case *http2.RSTStreamFrame:
				l.add("broken")
			}
		}
	})
}

// pluginBodyCases are replacement bodies a plugin may get wrong, and what
// the client is answered: a body that yields fewer or more bytes than the
// length the plugin declared, or fails, is the plugin's error; so is the
// client's body read by a plugin that did not replace it.
var pluginBodyCases = []struct {
	name    string
	body    func() io.Reader
	length  int64
	status  int
	details string
}{
	{"exact", func() io.Reader { return strings.NewReader("exact") }, 5, 200, "via_upstream"},
	{"unknown length", func() io.Reader { return strings.NewReader("stream") }, -1, 200, "via_upstream"},
	{"short", func() io.Reader { return strings.NewReader("short") }, 10, 500, "plugin_error"},
	{"long", func() io.Reader { return strings.NewReader("0123456789") }, 5, 500, "plugin_error"},
	{"long by one", func() io.Reader { return strings.NewReader("012345") }, 5, 500, "plugin_error"},
	{"fails", func() io.Reader {
		return io.MultiReader(strings.NewReader("abc"), failing{errors.New("inspection broke")})
	}, -1, 500, "plugin_error"},
	{"fails with a length", func() io.Reader {
		return io.MultiReader(strings.NewReader("abc"), failing{errors.New("inspection broke")})
	}, 10, 500, "plugin_error"},
	{"read, not replaced", nil, 0, 500, "plugin_error"},
	{"rejects", func() io.Reader {
		return io.MultiReader(strings.NewReader("abc"), failing{&plugins.Reject{Status: 403, Details: "body_denied"}})
	}, -1, 403, "body_denied"},
}

type failing struct{ err error }

func (f failing) Read([]byte) (int, error) { return 0, f.err }

// TestPluginBodyIsForwardedAsDeclared replaces the client's body with each
// of pluginBodyCases, over HTTP/1 and h2c upstreams, with and without
// retries (which buffer a small body to send it again). The upstream must
// never receive a request that looks whole with a body other than the one
// the plugin declared: an HTTP/2 stream ended short of its content-length
// desynchronises an upstream that turns it into HTTP/1, and an HTTP/1 body
// cut to its Content-Length is a request the plugin did not send. A body
// the plugin got wrong is answered as the plugin's error, not blamed on the
// endpoint: nothing is retried or ejected.
func TestPluginBodyIsForwardedAsDeclared(t *testing.T) {
	h := pluginFunc(func(_ context.Context, req *plugins.Request) error {
		name := req.Header().Get("X-Case")
		if name == "" {
			return nil
		}
		io.Copy(io.Discard, req.Body())
		for _, c := range pluginBodyCases {
			if c.name == name && c.body != nil {
				req.SetBody(io.NopCloser(c.body()), c.length)
			}
		}
		return nil
	})
	for _, up := range []string{"http1", "http2"} {
		for _, retries := range []string{"", "retries: { attempts: 2, on: [reset, 5xx], retry_non_idempotent: true },"} {
			t.Run(fmt.Sprintf("%s retries=%v", up, retries != ""), func(t *testing.T) {
				var l bodyLog
				addr := h1BodyBackend(t, &l)
				if up == "http2" {
					addr = h2BodyBackend(t, &l)
				}
				tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [{ name: web, address: "127.0.0.1:0" }]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: main, match: { path_prefix: / }, upstream: app, %s plugins: [ { replace: {} } ] }
upstreams:
  - name: app
    endpoints: [%q]
    protocol: %s
    outlier: { consecutive_5xx: 1, consecutive_connect_failures: 1, base_ejection_time: 30s, max_ejection_percent: 100 }
`, retries, addr, up), viewFactory("replace", h))
				for i, c := range pluginBodyCases {
					id := fmt.Sprintf("body-%d", i)
					r, _ := http.NewRequest("POST", tg.url("web")+"/p", strings.NewReader("client"))
					r.Header.Set("X-Case", c.name)
					r.Header.Set("X-Request-Id", id)
					resp, err := http.DefaultClient.Do(r)
					if err != nil {
						t.Fatalf("%s: %v", c.name, err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					e := tg.logFor(id)
					if resp.StatusCode != c.status || e["response_code_details"] != c.details || e["response_flags"] != "-" {
						t.Errorf("%s: got %d, logged %v %v, want %d %s -", c.name, resp.StatusCode, e["response_flags"], e["response_code_details"], c.status, c.details)
					}
				}
				r, _ := http.NewRequest("POST", tg.url("web")+"/p", strings.NewReader("last"))
				resp, err := http.DefaultClient.Do(r)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("a good request after the others got %d, want 200: the endpoint was ejected", resp.StatusCode)
				}
				waitUntil(t, "the last request at the upstream", func() bool { return l.has("whole:last") })
				want := []string{"whole:exact", "whole:stream", "whole:last"}
				if got := l.whole(); strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("the upstream received whole requests %q, want %q", got, want)
				}
				for _, m := range []string{"portcullis_upstream_ejections_total", "portcullis_upstream_retries_total"} {
					if v := upstreamMetric(t, tg, m, "app"); v != 0 {
						t.Errorf("%s = %v, want 0", m, v)
					}
				}
			})
		}
	}
}
