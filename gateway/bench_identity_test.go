package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// The identity benchmarks compare, in one run:
//
//   - full handshakes, without resumption, on a listener with an ordinary
//     certificate for localhost checked by its name (plain), one that
//     presents the gateway's SVID checked by its SPIFFE ID (tls), and one
//     that also requires and verifies the caller's (mtls); every key is
//     ECDSA P-256. Each handshake ends with the gateway's answer to a
//     request, so the server's side of it is done and counted. cpu-ns/op
//     is the process's CPU time (client and gateway) per handshake, which
//     a loaded machine disturbs far less than sec/op;
//   - 1 KiB GETs over a kept-alive connection without an identity (tls)
//     and with one (mtls), where a verified caller must cost nothing per
//     request that an anonymous one does not (TestIdentityRequestAllocs
//     holds it), and with the caller's element forwarded in
//     x-forwarded-client-cert (mtls-xfcc), one header more for the
//     upstream.
//
//	go test ./gateway -run '^$' -bench 'Identity' -benchmem -count 6 > id.txt
//	benchstat -col /listener id.txt

// identityBench serves the listeners of the identity benchmarks and
// returns the client configurations: a caller's with its SVID, and a web
// client's that checks the plain listener's name.
func identityBench(tb testing.TB) (tg *testGateway, mesh, web *tls.Config) {
	ca := newDevCA(tb)
	dir := tb.TempDir()
	plain := issueSVID(tb, ca, "spiffe://cluster.local/ns/edge/sa/plain", func(c *x509.Certificate) { c.URIs, c.DNSNames = nil, []string{"localhost"} })
	files := svidFiles(tb, plain)
	for _, f := range []string{devca.CertFile, devca.KeyFile} {
		writeFile(tb, filepath.Join(dir, f), string(files[f]))
	}
	sanitize := strings.TrimSuffix(meshListener("mtls", "127.0.0.1:0", "require"), " }") + ", forward_client_cert: { mode: sanitize } }"
	cfg := callerConfigWith(tb, ca, benchBackend(tb), "[]",
		fmt.Sprintf("{ name: plain, address: \"127.0.0.1:0\", tls: { certificates: [ { cert: %q, key: %q } ] } }",
			filepath.Join(dir, devca.CertFile), filepath.Join(dir, devca.KeyFile)),
		meshListener("tls", "127.0.0.1:0", "none"), sanitize, meshListener("mtls-xfcc", "127.0.0.1:0", "require"))
	tg = serveForTest(tb, cfg, "envoy", zerolog.Nop())
	mesh = meshClientTLS(issueSVID(tb, ca, "spiffe://cluster.local/ns/shop/sa/api", nil), ca)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Root())
	web = &tls.Config{RootCAs: roots, ServerName: "localhost"}
	for _, c := range []*tls.Config{mesh, web} {
		c.SessionTicketsDisabled = true
		c.NextProtos = []string{"http/1.1"}
	}
	return tg, mesh, web
}

func BenchmarkIdentityHandshake(b *testing.B) {
	tg, mesh, web := identityBench(b)
	for _, listener := range []string{"plain", "tls", "mtls"} {
		client := mesh
		if listener == "plain" {
			client = web
		}
		b.Run("listener="+listener, func(b *testing.B) {
			addr := tg.Addr(listener).String()
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				c, err := tls.Dial("tcp", addr, client)
				if err != nil {
					b.Fatal(err)
				}
				// Without a Host the server answers 400 and closes,
				// once its side of the handshake is done.
				io.WriteString(c, "GET / HTTP/1.1\r\n\r\n")
				if n, err := io.Copy(io.Discard, c); n == 0 {
					b.Fatalf("no answer: %v", err)
				}
				c.Close()
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

func BenchmarkIdentityProxy1KiB(b *testing.B) {
	tg, mesh, _ := identityBench(b)
	for _, listener := range []string{"tls", "mtls", "mtls-xfcc"} {
		b.Run("listener="+listener, func(b *testing.B) {
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: mesh.Clone(), MaxIdleConnsPerHost: 64, DisableCompression: true}}
			runGets(b, c, tg.url(listener)+"/bench")
		})
	}
}

// TestIdentityRequestAllocs checks that a verified caller costs no
// allocation per request on a kept-alive connection: a GET through the
// mtls listener allocates, in the whole process (client, gateway and
// upstream), exactly as much as one through the tls listener. Each figure
// is the least of a few rounds, each an integer average over many
// requests, so that a stray allocation elsewhere moves neither.
func TestIdentityRequestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts vary under the race detector")
	}
	tg, mesh, _ := identityBench(t)
	measure := func(listener string) float64 {
		tr := &http.Transport{TLSClientConfig: mesh.Clone(), DisableCompression: true}
		defer tr.CloseIdleConnections()
		c, url := &http.Client{Transport: tr}, tg.url(listener)+"/bench"
		get := func() {
			resp, err := c.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s: status %d", listener, resp.StatusCode)
			}
		}
		get() // the handshake, and the connection kept
		least := math.Inf(1)
		for range 3 {
			least = min(least, testing.AllocsPerRun(50, get))
		}
		return least
	}
	without, with := measure("tls"), measure("mtls")
	if with != without {
		t.Errorf("got %v allocations per request with an identity, want %v as without", with, without)
	}
}
