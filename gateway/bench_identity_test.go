package gateway

import (
	"crypto/tls"
	"net/http"
	"testing"

	"github.com/rs/zerolog"
)

// The identity benchmarks compare, in one run, a listener that presents the
// gateway's SVID without asking callers for theirs (TLS) with one that
// requires and verifies it (mTLS): full handshakes, without resumption,
// and 1 KiB GETs over a kept-alive connection, where a verified caller must
// cost nothing per request that an anonymous one does not.
//
//	go test ./gateway -run '^$' -bench 'Identity' -benchmem -count 6

func identityBench(b *testing.B) (tg *testGateway, client *tls.Config) {
	ca := newDevCA(b)
	cfg := callerConfigWith(b, ca, benchBackend(b), "[]",
		meshListener("tls", "127.0.0.1:0", "none"), meshListener("mtls", "127.0.0.1:0", "require"))
	tg = serveForTest(b, cfg, "envoy", zerolog.Nop())
	c := meshClientTLS(issueSVID(b, ca, "spiffe://cluster.local/ns/shop/sa/api", nil), ca)
	c.SessionTicketsDisabled = true
	return tg, c
}

func BenchmarkIdentityHandshake(b *testing.B) {
	tg, client := identityBench(b)
	for _, listener := range []string{"tls", "mtls"} {
		b.Run(listener, func(b *testing.B) {
			addr := tg.Addr(listener).String()
			b.ReportAllocs()
			for b.Loop() {
				c, err := tls.Dial("tcp", addr, client)
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}

func BenchmarkIdentityProxy1KiB(b *testing.B) {
	tg, client := identityBench(b)
	for _, listener := range []string{"tls", "mtls"} {
		b.Run(listener, func(b *testing.B) {
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: client.Clone(), MaxIdleConnsPerHost: 64, DisableCompression: true}}
			runGets(b, c, tg.url(listener)+"/bench")
		})
	}
}
