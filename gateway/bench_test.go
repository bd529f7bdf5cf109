package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/routes"
)

// The proxy benchmarks send a 1 KiB GET over HTTP/1.1 keep-alive on loopback
// through the whole gateway path (routing, the headers plugin, access log to
// a file, metrics) and, for a baseline in the same run, through a bare
// httputil.ReverseProxy. Client, proxy and upstream share the process, so
// allocs/op counts all three; the difference between the two is the
// gateway's own cost.
//
//	go test ./gateway -run '^$' -bench 'Proxy1KiB' -benchmem -count 6

var kib = bytes.Repeat([]byte("x"), 1024)

func benchBackend(b testing.TB) string {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"application/octet-stream"}
		w.Write(kib)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
}

func runGets(b *testing.B, c *http.Client, url string) {
	b.ReportAllocs()
	b.SetBytes(1024)
	for b.Loop() {
		resp, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

func BenchmarkProxy1KiBGateway(b *testing.B) {
	be := benchBackend(b)
	reg, _ := plugins.NewRegistry(headers.Factory())
	cfg, err := routes.Parse(filepath.Join(b.TempDir(), "routes.yaml"), []byte(fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - name: bench
    hosts: ["*"]
    routes:
      - name: all
        match: { path_prefix: / }
        upstream: app
        plugins: [ { headers: { request: { set: { x-env: bench } }, response: { remove: [x-powered-by] } } } ]
upstreams: [ { name: app, endpoints: [%q] } ]
`, be)), reg)
	if err != nil {
		b.Fatal(err)
	}
	gw := serveForTest(b, cfg, "envoy", zerolog.Nop())
	runGets(b, benchClient(), "http://"+gw.Addr("web").String()+"/bench")
}

func BenchmarkProxy1KiBBareHTTPUtil(b *testing.B) {
	be := benchBackend(b)
	target, _ := url.Parse("http://" + be)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: rp}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	runGets(b, benchClient(), "http://"+ln.Addr().String()+"/bench")
}

// BenchmarkProxy1KiBDirect is the client and the upstream with no proxy
// between them: its allocs/op are the part of the other two benchmarks'
// figures that the proxies do not cause.
func BenchmarkProxy1KiBDirect(b *testing.B) {
	runGets(b, benchClient(), "http://"+benchBackend(b)+"/bench")
}
