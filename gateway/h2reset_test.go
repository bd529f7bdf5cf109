package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// resetGateway serves a counting backend on a TLS listener "tls" (HTTP/2
// by ALPN) and a plain listener "h2c".
func resetGateway(t *testing.T, ca *testCA, be *testBackend) *testGateway {
	crt, key := ca.issue(t, "localhost", "127.0.0.1")
	return startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - { name: tls, address: "127.0.0.1:0", protocols: [http1, http2], tls: { certificates: [ { cert: %q, key: %q } ] } }
  - { name: h2c, address: "127.0.0.1:0", protocols: [http1, http2] }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [ %q ] } ]
`, crt, key, be.addr()))
}

// resetLimit is the number of streams after which a connection that reset
// at least half of them prematurely is closed (Envoy's default).
const resetLimit = 500

func TestHTTP2RapidReset(t *testing.T) {
	ca := newTestCA(t)
	be := newBackend(t, nil)
	tg := resetGateway(t, ca, be)
	for _, tt := range []struct {
		listener string
		dial     func() (net.Conn, error)
	}{
		{"tls", func() (net.Conn, error) {
			cfg := ca.clientTLS("localhost")
			cfg.NextProtos = []string{http2.NextProtoTLS}
			return tls.Dial("tcp", tg.Addr("tls").String(), cfg)
		}},
		{"h2c", func() (net.Conn, error) { return net.Dial("tcp", tg.Addr("h2c").String()) }},
	} {
		t.Run(tt.listener, func(t *testing.T) {
			hitsBefore, linesBefore := be.hits.Load(), served(t, tg.Gateway)
			c, err := tt.dial()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			const pairs = 20 * resetLimit
			go rapidReset(c, pairs)
			code, err := readUntilGoAway(c)
			if err != nil {
				t.Fatal(err)
			}
			if code != http2.ErrCodeEnhanceYourCalm {
				t.Errorf("GOAWAY code: got %v, want ENHANCE_YOUR_CALM", code)
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.Copy(io.Discard, c); errors.Is(err, os.ErrDeadlineExceeded) {
				t.Error("connection still open 10s after GOAWAY")
			}
			// Past the limit no stream is read, so at most resetLimit
			// requests start; of those, one reaches the backend only when
			// it went out before its reset came in.
			lines := served(t, tg.Gateway) - linesBefore
			hits := int(be.hits.Load() - hitsBefore)
			t.Logf("%d HEADERS+RST_STREAM pairs sent: %d requests reached the backend, %d requests logged", pairs, hits, lines)
			if hits > resetLimit || lines > resetLimit {
				t.Errorf("got %d requests at the backend and %d logged, want at most %d each", hits, lines, resetLimit)
			}
			eventually(t, "the connection closed on the gateway's side", func() error {
				if got := metricValue(t, tg.Gateway, "portcullis_downstream_connections", tt.listener); got != 0 {
					return fmt.Errorf("%v open", got)
				}
				return nil
			})
			eventually(t, "the connection counted in portcullis_downstream_too_many_premature_resets_total", func() error {
				if got := metricValue(t, tg.Gateway, "portcullis_downstream_too_many_premature_resets_total", tt.listener); got != 1 {
					return fmt.Errorf("got %v, want 1", got)
				}
				return nil
			})
		})
	}
}

// rapidReset opens n streams on c, each a GET reset at once, as fast as
// the connection takes them.
func rapidReset(c net.Conn, n int) {
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "localhost"}, {":path", "/"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	w := &bytes.Buffer{}
	fr := http2.NewFramer(w, nil)
	io.WriteString(w, http2.ClientPreface)
	fr.WriteSettings()
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	for i := 0; i < n; i++ {
		id := uint32(2*i + 1)
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true})
		fr.WriteRSTStream(id, http2.ErrCodeCancel)
		if w.Len() > 16<<10 || i == n-1 {
			if _, err := c.Write(w.Bytes()); err != nil {
				return // the server hung up
			}
			w.Reset()
		}
	}
}

// readUntilGoAway reads frames from c until a GOAWAY and returns its code.
func readUntilGoAway(c net.Conn) (http2.ErrCode, error) {
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	fr := http2.NewFramer(nil, c)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return 0, fmt.Errorf("reading frames: %w, want a GOAWAY", err)
		}
		if ga, ok := f.(*http2.GoAwayFrame); ok {
			return ga.ErrCode, nil
		}
	}
}

// TestHTTP2CancelsNowAndThen checks that a client that cancels some of its
// requests, as browsers do when a page moves on, keeps its connection.
func TestHTTP2CancelsNowAndThen(t *testing.T) {
	ca := newTestCA(t)
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/hang") {
			<-r.Context().Done() // until the client cancels
			return
		}
		io.WriteString(w, "ok")
	})
	tg := resetGateway(t, ca, be)
	var conns sync.Map
	tr := &http.Transport{TLSClientConfig: ca.clientTLS("localhost"), Protocols: protocols("http2")}
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&tls.Dialer{Config: tr.TLSClientConfig.Clone()}).DialContext(ctx, network, addr)
		if err == nil {
			conns.Store(c.LocalAddr().String(), true)
		}
		return c, err
	}
	tr.TLSClientConfig.NextProtos = []string{http2.NextProtoTLS}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := "https://localhost:" + port(tg.Addr("tls"))
	// One request first, so that the concurrent ones share its
	// connection rather than race to dial their own.
	if err := cancelNowAndThen(client, url, 1); err != nil {
		t.Fatal(err)
	}
	const n = 3 * resetLimit
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				errs <- cancelNowAndThen(client, url, i)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	dials := 0
	conns.Range(func(any, any) bool { dials++; return true })
	if dials != 1 {
		t.Errorf("connections: got %d, want 1 kept throughout", dials)
	}
	if got := metricValue(t, tg.Gateway, "portcullis_downstream_too_many_premature_resets_total", "tls"); got != 0 {
		t.Errorf("connections closed for resets: got %v, want 0", got)
	}
}

// cancelNowAndThen sends request i: every fifth waits on a backend that
// does not answer and is cancelled before its response; the others must
// succeed.
func cancelNowAndThen(c *http.Client, url string, i int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := "/ok"
	if i%5 == 0 {
		path = "/hang"
		time.AfterFunc(5*time.Millisecond, cancel)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+path, nil)
	resp, err := c.Do(req)
	if path == "/hang" {
		if err == nil {
			resp.Body.Close()
			return fmt.Errorf("request %d: the hanging request got %d, want it cancelled", i, resp.StatusCode)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("request %d: %w", i, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		return fmt.Errorf("request %d: got %d over %s, want 200 over HTTP/2", i, resp.StatusCode, resp.Proto)
	}
	return nil
}
