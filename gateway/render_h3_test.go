package gateway

import (
	"net/http"
	"testing"

	"github.com/quic-go/quic-go/http3"
)

// TestBadRequestOverHTTP3 checks that the gateway's own 400 reaches an
// HTTP/3 client as a valid response: it carries no Connection header, which
// HTTP/3 forbids and its clients refuse.
func TestBadRequestOverHTTP3(t *testing.T) {
	ca := newTestCA(t)
	tg := tlsGateway(t, ca)
	h3t := &http3.Transport{TLSClientConfig: ca.clientTLS("localhost")}
	t.Cleanup(func() { h3t.Close() })
	resp, _ := get(t, &http.Client{Transport: h3t}, "https://localhost:"+port(tg.Addr("edge"))+"/a%00b")
	if resp.StatusCode != 400 || resp.ProtoMajor != 3 {
		t.Errorf("got %s %d, want HTTP/3 400", resp.Proto, resp.StatusCode)
	}
}
