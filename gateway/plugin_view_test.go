package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
)

// viewFactory registers h under name, with no configuration.
func viewFactory(name string, h plugins.Handler) plugins.Factory {
	return plugins.Factory{
		Name:   name,
		Config: func() any { return &struct{}{} },
		Build:  func(any) (plugins.Handler, error) { return h, nil },
	}
}

// viewGateway routes every path to the endpoint through the plugin named
// name.
func viewGateway(t *testing.T, endpoint, name string, h plugins.Handler) *testGateway {
	return startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [{ name: web, address: "127.0.0.1:0" }]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: main, match: { path_prefix: / }, upstream: app, plugins: [ { %s: {} } ] }
upstreams:
  - { name: app, endpoints: [%q] }
`, name, endpoint), viewFactory(name, h))
}

// seenBy decodes what the default test backend saw.
func seenBy(t *testing.T, resp *http.Response) seen {
	t.Helper()
	defer resp.Body.Close()
	var s seen
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("got %s: %v", resp.Status, err)
	}
	return s
}

// TestPluginReplacesBody forwards the body a plugin put in place of the
// client's, with its length, while the access log counts the client's bytes.
func TestPluginReplacesBody(t *testing.T) {
	be := newBackend(t, nil)
	tg := viewGateway(t, be.addr(), "upper", pluginFunc(func(_ context.Context, req *plugins.Request) error {
		b, err := io.ReadAll(req.Body())
		if err != nil {
			return err
		}
		out := append(bytes.ToUpper(b), "!!"...)
		req.SetBody(io.NopCloser(bytes.NewReader(out)), int64(len(out)))
		return nil
	}))
	r, _ := http.NewRequest("POST", tg.url("web")+"/p", strings.NewReader("hello"))
	r.Header.Set("X-Request-Id", "replaced-body")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	s := seenBy(t, resp)
	if s.Body != "HELLO!!" || s.Header.Get("Content-Length") != "7" {
		t.Errorf("got body %q with Content-Length %q, want HELLO!! with 7", s.Body, s.Header.Get("Content-Length"))
	}
	if got := tg.logFor("replaced-body")["bytes_received"]; got != float64(5) {
		t.Errorf("got bytes_received %v, want the client's 5", got)
	}
}

// TestPluginHatchCannotMoveTheRequest hands the request to a net/http
// middleware through the escape hatch: its header edits are forwarded, and
// its change of path is not, so the upstream gets the path the route
// matched.
func TestPluginHatchCannotMoveTheRequest(t *testing.T) {
	be := newBackend(t, nil)
	inner := http.StripPrefix("/api", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Inner-Path", r.URL.Path)
		r.URL.Path, r.URL.RawPath, r.Method = "/admin", "", "DELETE"
	}))
	tg := viewGateway(t, be.addr(), "middleware", pluginFunc(func(_ context.Context, req *plugins.Request) error {
		inner.ServeHTTP(nil, req.HTTPRequest())
		return nil
	}))
	resp, err := http.Get(tg.url("web") + "/api/x%2Fy?q=1")
	if err != nil {
		t.Fatal(err)
	}
	s := seenBy(t, resp)
	got := []string{s.Method, s.RawPath, s.Query, s.Header.Get("X-Inner-Path")}
	if want := []string{"GET", "/api/x%2Fy", "q=1", "/x/y"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want the matched target and the middleware's header %q", got, want)
	}
}

// TestResponsePluginWrapsBody wraps the upstream's body and reads the
// status through the response view.
func TestResponsePluginWrapsBody(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "hello")
	})
	tg := viewGateway(t, be.addr(), "shout", shout{})
	resp, err := http.Get(tg.url("web") + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "HELLO" || resp.Header.Get("X-Status") != "201" || resp.StatusCode != 201 {
		t.Errorf("got %d %q with X-Status %q, want 201 HELLO with 201", resp.StatusCode, b, resp.Header.Get("X-Status"))
	}
}

type shout struct{}

func (shout) HandleRequest(context.Context, *plugins.Request) error { return nil }

func (shout) HandleResponse(_ context.Context, _ *plugins.Request, resp *plugins.Response) error {
	resp.Header().Set("X-Status", strconv.Itoa(resp.Status()))
	b, err := io.ReadAll(resp.Body())
	if err != nil {
		return err
	}
	resp.Body().Close()
	resp.SetBody(io.NopCloser(bytes.NewReader(bytes.ToUpper(b))), -1)
	return nil
}

// TestRejectAfterReadingBody keeps an HTTP/1.1 connection open when a
// plugin read the whole body before it refused the request, and closes it
// when the plugin left part of the body unread.
func TestRejectAfterReadingBody(t *testing.T) {
	be := newBackend(t, nil)
	tg := viewGateway(t, be.addr(), "inspect", pluginFunc(func(_ context.Context, req *plugins.Request) error {
		n := int64(1)
		if req.Header().Get("X-Read") == "all" {
			n = 1 << 20
		}
		io.Copy(io.Discard, io.LimitReader(req.Body(), n))
		return &plugins.Reject{Status: http.StatusForbidden, Details: "inspected"}
	}))
	addr := strings.TrimPrefix(tg.url("web"), "http://")
	for _, tt := range []struct {
		read  string
		close bool
	}{{"all", false}, {"one", true}} {
		resp, _ := rawRoundTrip(t, addr, "POST / HTTP/1.1\r\nHost: a\r\nX-Read: "+tt.read+"\r\nContent-Length: 10\r\n\r\n0123456789")
		if resp.StatusCode != http.StatusForbidden || resp.Close != tt.close {
			t.Errorf("read %s: got %d with close %v, want 403 with close %v", tt.read, resp.StatusCode, resp.Close, tt.close)
		}
	}
}

// noBody is a response plugin that replaces every response body, as one
// that inspects or rewrites bodies does: with a wrapper of unknown length,
// or with bytes of its own.
type noBody struct{ wrap bool }

func (noBody) HandleRequest(context.Context, *plugins.Request) error { return nil }

func (p noBody) HandleResponse(_ context.Context, _ *plugins.Request, resp *plugins.Response) error {
	if p.wrap {
		resp.SetBody(io.NopCloser(resp.Body()), -1)
	} else {
		resp.SetBody(io.NopCloser(strings.NewReader("own")), 3)
	}
	return nil
}

// TestResponsePluginCannotGiveABodyToNone replaces the body of responses
// that carry none: a 101's body is the upgraded connection, which must
// reach the client as the tunnel and be closed when it ends (else the
// upstream connection and its request slot leak), and a 204 or 304 has no
// body to send. Each reaches the client as the upstream sent it, logged
// as such.
func TestResponsePluginCannotGiveABodyToNone(t *testing.T) {
	be := newRawBackend(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
		switch req.URL.Path {
		case "/ws":
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			buf := make([]byte, 4)
			if _, err := io.ReadFull(br, buf); err == nil {
				c.Write(buf)
			}
		case "/204":
			io.WriteString(c, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
		case "/304":
			io.WriteString(c, "HTTP/1.1 304 Not Modified\r\nEtag: \"a\"\r\nConnection: close\r\n\r\n")
		}
	})
	for _, wrap := range []bool{true, false} {
		t.Run(fmt.Sprintf("wrap=%v", wrap), func(t *testing.T) {
			tg := viewGateway(t, be.addr(), "replace", noBody{wrap})
			addr := strings.TrimPrefix(tg.url("web"), "http://")
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Request-Id: ws\r\n\r\n")
			c.SetReadDeadline(deadline())
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			echo := make([]byte, 4)
			if resp.StatusCode == 101 {
				io.WriteString(c, "ping")
				io.ReadFull(br, echo)
			}
			c.Close()
			if resp.StatusCode != 101 || resp.Header.Get("Content-Length") != "" || string(echo) != "ping" {
				t.Errorf("got %d with Content-Length %q and %q through the tunnel, want 101, none, ping", resp.StatusCode, resp.Header.Get("Content-Length"), echo)
			}
			if e := tg.logFor("ws"); e["response_code"] != float64(101) || e["response_flags"] != "-" {
				t.Errorf("logged %v %v, want 101 -", e["response_code"], e["response_flags"])
			}
			waitUntil(t, "the upstream connection closed", func() bool { return be.open.Load() == 0 })
			waitUntil(t, "the request slot freed", func() bool {
				return upstreamMetric(t, tg, "portcullis_upstream_requests_active", "app") == 0
			})
			for _, path := range []string{"/204", "/304"} {
				resp, body := rawRoundTrip(t, addr, "GET "+path+" HTTP/1.1\r\nHost: a\r\nX-Request-Id: r"+path+"\r\n\r\n")
				if want := path[1:]; fmt.Sprint(resp.StatusCode) != want || body != "" || resp.Header.Get("Content-Length") != "" {
					t.Errorf("%s: got %d %q with Content-Length %q, want %s with no body", path, resp.StatusCode, body, resp.Header.Get("Content-Length"), want)
				}
			}
		})
	}
}

// lateReader is a response plugin that reads the request's trailer, body
// and escape hatch while the upstream transport may still be sending the
// request body, until the trailer field X-Sum shows.
type lateReader struct {
	started chan struct{}
	saw     chan []string
}

func (lateReader) HandleRequest(context.Context, *plugins.Request) error { return nil }

func (p lateReader) HandleResponse(_ context.Context, req *plugins.Request, _ *plugins.Response) error {
	hatch := req.HTTPRequest()
	first := []string{fmt.Sprint(hatch.Trailer), fmt.Sprint(req.Trailer().Len())}
	n, _ := req.Body().Read(make([]byte, 8))
	first = append(first, fmt.Sprint(n))
	close(p.started)
	sum := ""
	for end := time.Now().Add(10 * time.Second); sum == "" && time.Now().Before(end); time.Sleep(time.Millisecond) {
		sum = req.Trailer().Get("X-Sum")
		req.HTTPRequest()
	}
	p.saw <- append(first, sum)
	return nil
}

// TestResponsePhaseRequestTrailer answers a request before its chunked
// body has ended, and runs a response plugin that reads the request's
// trailer meanwhile. net/http writes the trailer into the request when the
// body ends, on the transport's goroutine: until then the plugin sees no
// trailer, no body (the upstream's to read) and a hatch without trailer,
// and never the map while it is written (the race detector watches); once
// the body has ended it sees the trailer.
func TestResponsePhaseRequestTrailer(t *testing.T) {
	be := newRawBackend(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		io.Copy(io.Discard, req.Body)
	})
	p := lateReader{started: make(chan struct{}), saw: make(chan []string, 1)}
	tg := viewGateway(t, be.addr(), "late", p)
	c, err := net.Dial("tcp", strings.TrimPrefix(tg.url("web"), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: a\r\nTrailer: X-Sum\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n")
	select {
	case <-p.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the response phase did not start")
	}
	io.WriteString(c, "0\r\nX-Sum: 1\r\n\r\n")
	c.SetReadDeadline(deadline())
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := <-p.saw, []string{"map[]", "0", "0", "1"}; !slices.Equal(got, want) {
		t.Errorf("the plugin saw hatch trailer, trailer fields, body bytes, X-Sum %q, want %q", got, want)
	}
}
