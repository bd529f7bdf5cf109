package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/portcullis-gw/portcullis/routes"
)

// TestAbsoluteFormReadLikeOriginForm sends each request target in absolute
// form (GET http://host/p) and in the origin form it stands for (GET /p with
// that Host), and checks that both get the same answer and that the upstream
// receives the same target and Host; the absolute forms a server must refuse
// get 400 and reach nothing.
func TestAbsoluteFormReadLikeOriginForm(t *testing.T) {
	tests := []struct {
		name, absolute, origin, host string
		status                       int
		target                       string // what the upstream receives
	}{
		{"fragment", "http://h1.test/admin#frag", "/admin#frag", "h1.test", 400, ""},
		{"fragment after the authority", "http://h1.test#frag", "/#frag", "h1.test", 400, ""},
		{"fragment in the query", "http://h1.test/x?a#frag", "/x?a#frag", "h1.test", 400, ""},
		{"blocked path", "http://h1.test/admin", "/admin", "h1.test", 403, ""},
		{"blocked path with a query", "http://h1.test/admin?x", "/admin?x", "h1.test", 403, ""},
		{"blocked path behind escaped dots", "http://h1.test/a/%2E%2E/admin", "/a/%2E%2E/admin", "h1.test", 403, ""},
		{"raw brace before escaped slashes", "http://h1.test/x/{%2F..%2F..%2Fadmin", "/x/{%2F..%2F..%2Fadmin", "h1.test", 200, "/x/%7B%2F..%2F..%2Fadmin"},
		{"empty path", "http://h1.test", "/", "h1.test", 200, "/"},
		{"empty path with a query", "http://h1.test?q=1", "/?q=1", "h1.test", 200, "/?q=1"},
		{"empty query", "http://h1.test/x?", "/x?", "h1.test", 200, "/x"},
		{"scheme in upper case", "HTTPS://h1.test/x", "/x", "h1.test", 200, "/x"},
		{"utf-8", "http://h1.test/\xc3\xa9", "/\xc3\xa9", "h1.test", 200, "/%C3%A9"},
	}
	received, matched := newTargets(), newTargets()
	tg := targetGateway(t, routes.PathOptions{EscapedSlashes: "keep"}, nil, matched, [3]string{targetBackend(t, received)})
	addr := tg.Addr("h1").String()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [2]target
			for j, req := range [2][2]string{{tt.absolute, "other.test"}, {tt.origin, tt.host}} {
				id := fmt.Sprintf("form-%d-%d", i, j)
				status := sendRaw(t, addr, req[0], req[1], id)
				var forwarded bool
				got[j], forwarded = received.get(id)
				if status != tt.status || got[j].uri != tt.target || forwarded != (tt.target != "") {
					t.Errorf("GET %q with Host %s: got %d, upstream target %q, want %d, %q", req[0], req[1], status, got[j].uri, tt.status, tt.target)
				}
			}
			if got[0] != got[1] {
				t.Errorf("absolute form: upstream got %+v; origin form: %+v; want them alike", got[0], got[1])
			}
		})
	}
}

// TestAbsoluteFormRefused checks the absolute forms the gateway refuses:
// each gets 400 and reaches no upstream.
func TestAbsoluteFormRefused(t *testing.T) {
	received := newTargets()
	tg := targetGateway(t, routes.PathOptions{EscapedSlashes: "keep"}, nil, newTargets(), [3]string{targetBackend(t, received)})
	for i, target := range []string{
		"http://user:secret@h1.test/x", // userinfo, RFC 9110 section 4.2.4
		"http://@h1.test/x",
		"ftp://h1.test/x",
		"http:///x",
		"http:/x",
		"h1.test:80", // authority form, CONNECT's alone
		"*",
		"http://h1.test:80:80/x",
	} {
		t.Run(target, func(t *testing.T) {
			id := fmt.Sprint("refused-", i)
			if status := sendRaw(t, tg.Addr("h1").String(), target, "h1.test", id); status != 400 {
				t.Errorf("GET %q: got %d, want 400", target, status)
			}
			if got, ok := received.get(id); ok {
				t.Errorf("GET %q: upstream received %q, want nothing", target, got.uri)
			}
		})
	}
}

// TestAbsolutePathOverHTTP2Refused checks that an HTTP/2 :path in absolute
// form, which HTTP/2 does not allow, gets 400 (or a stream reset) and reaches nothing, rather
// than being read one way for routing (by :authority) and another for the
// path.
func TestAbsolutePathOverHTTP2Refused(t *testing.T) {
	received := newTargets()
	tg := targetGateway(t, routes.PathOptions{EscapedSlashes: "keep"}, nil, newTargets(), [3]string{targetBackend(t, received)})
	c, err := net.Dial("tcp", tg.Addr("h2c").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, http2.ClientPreface)
	fr := http2.NewFramer(c, c)
	fr.WriteSettings()
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, kv := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "h1.test"},
		{":path", "http://elsewhere.test/x"}, {"x-request-id", "h2-absolute"}} {
		enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true})
	dec := hpack.NewDecoder(4096, nil)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("no response: %v", err)
		}
		// The HTTP/2 server may refuse the stream itself, before the
		// gateway sees it: a reset is as good a refusal as a 400.
		if rst, ok := f.(*http2.RSTStreamFrame); ok && rst.StreamID == 1 {
			if rst.ErrCode != http2.ErrCodeProtocol {
				t.Errorf("stream reset with %v, want PROTOCOL_ERROR", rst.ErrCode)
			}
			break
		}
		if h, ok := f.(*http2.HeadersFrame); ok && h.StreamID == 1 {
			fields, _ := dec.DecodeFull(h.HeaderBlockFragment())
			if len(fields) == 0 || fields[0].Value != "400" {
				t.Errorf("got %v, want :status 400", fields)
			}
			break
		}
	}
	if got, ok := received.get("h2-absolute"); ok {
		t.Errorf("upstream received %q, want nothing", got.uri)
	}
}
