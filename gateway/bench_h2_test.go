package gateway

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

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
