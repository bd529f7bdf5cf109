package gateway

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway/upstream"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
)

// FuzzUpstreamAnswer has an HTTP/1 upstream answer with any bytes. Whatever
// they are, the client gets well-formed HTTP/1.1: at most the bounded
// number of 1xx responses, then one final response with a status from 200
// to 599 and a bounded header; never a status the upstream made up, never
// a hang.
func FuzzUpstreamAnswer(f *testing.F) {
	for _, a := range hostileAnswers() {
		if len(a.h1) < 4<<10 {
			f.Add([]byte(a.h1))
		}
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	f.Add([]byte("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200 OK\r\n\r\nbody until close"))
	f.Add([]byte(""))
	var mu sync.Mutex
	var answer []byte
	be := answerBackend(f, func(c net.Conn) {
		mu.Lock()
		a := answer
		mu.Unlock()
		c.Write(a)
	})
	reg, err := plugins.NewRegistry()
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := routes.Parse(filepath.Join(f.TempDir(), "routes.yaml"), []byte(`
admin: { address: "off" }
listeners: [ { name: h1, address: "127.0.0.1:0" } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app, timeout: 2s } ] }
upstreams: [ { name: app, endpoints: ["`+be+`"] } ]
`), reg)
	if err != nil {
		f.Fatal(err)
	}
	tg := serveForTest(f, cfg, "json", zerolog.Nop())
	addr := tg.Addr("h1").String()
	f.Fuzz(func(t *testing.T, b []byte) {
		mu.Lock()
		answer = b
		mu.Unlock()
		raw := rawExchange(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		br := bufio.NewReader(strings.NewReader(raw))
		for n := 0; ; n++ {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("response %d: %v in %q", n, err, raw)
			}
			io.Copy(io.Discard, resp.Body)
			if resp.StatusCode >= 200 {
				if resp.StatusCode > 599 {
					t.Fatalf("status %d passed on", resp.StatusCode)
				}
				if upstream.HeaderCount(resp.Header) > upstream.MaxResponseHeaders+10 {
					t.Fatalf("%d header fields passed on", upstream.HeaderCount(resp.Header))
				}
				break
			}
			if resp.StatusCode == http.StatusSwitchingProtocols {
				break // the connection is the upstream's now
			}
			if n >= upstream.MaxInformational {
				t.Fatalf("more than %d informational responses passed on", upstream.MaxInformational)
			}
		}
	})
}
