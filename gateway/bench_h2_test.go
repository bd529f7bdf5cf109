package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/portcullis-gw/portcullis/routes"
)

// BenchmarkProxy1KiBGatewayH2C is BenchmarkProxy1KiBGateway with the client
// on h2c, one HTTP/2 connection: it measures the HTTP/2 server and the
// frame following that guards it against rapid reset.
//
//	go test ./gateway -run '^$' -bench 'Proxy1KiBGatewayH2C' -benchmem -count 6
func BenchmarkProxy1KiBGatewayH2C(b *testing.B) {
	cfg, err := routes.Parse(filepath.Join(b.TempDir(), "routes.yaml"), []byte(fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0", protocols: [http1, http2] } ]
virtual_hosts:
  - { name: bench, hosts: ["*"], routes: [ { name: all, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, benchBackend(b))), nil)
	if err != nil {
		b.Fatal(err)
	}
	gw := serveForTest(b, cfg, "envoy", zerolog.Nop())
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	c := &http.Client{Transport: &http.Transport{Protocols: p, DisableCompression: true}}
	runGets(b, c, "http://"+gw.Addr("web").String()+"/bench")
}

// BenchmarkH2ReadRequest measures the reading of one request's HEADERS
// frame as the HTTP/2 server reads it (x/net's Framer, decoding the block),
// from the client's bytes directly and through a conformGuard, which
// decodes every block a second time: the guard's cost per request.
//
//	go test ./gateway -run '^$' -bench 'H2ReadRequest' -benchmem -count 6
func BenchmarkH2ReadRequest(b *testing.B) {
	const requests = 256
	var stream, block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	fr := http2.NewFramer(&stream, nil)
	for i := range requests {
		block.Reset()
		for _, f := range [][2]string{
			{":method", "GET"}, {":scheme", "https"}, {":authority", "shop.example.com"}, {":path", fmt.Sprintf("/api/items/%d?page=2", i)},
			{"user-agent", "Mozilla/5.0 (X11; Linux x86_64) bench/1.0"}, {"accept", "application/json"}, {"accept-encoding", "gzip, br"},
			{"accept-language", "en-GB,en;q=0.9"}, {"cookie", "session=9f2c1a7e5b1d4c598e0a3f7d2b6c4e11"}, {"x-request-id", fmt.Sprintf("req-%08d", i)},
		} {
			enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true})
	}
	for _, guarded := range []bool{false, true} {
		name := map[bool]string{false: "direct", true: "guarded"}[guarded]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var fr *http2.Framer
			i := requests
			for b.Loop() {
				if i == requests {
					var r io.Reader = bytes.NewReader(stream.Bytes())
					if guarded {
						r = newConformGuard(&chunkConn{data: stream.Bytes()}, true, 0)
					}
					fr = http2.NewFramer(nil, r)
					fr.ReadMetaHeaders = hpack.NewDecoder(h2HeaderTableSize, nil)
					i = 0
				}
				if _, err := fr.ReadFrame(); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
