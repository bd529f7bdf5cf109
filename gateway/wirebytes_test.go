package gateway

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// istioHistogram returns the count and sum of a histogram over all its
// series.
func istioHistogram(t *testing.T, tg *testGateway, name string) (count uint64, sum float64) {
	t.Helper()
	fams, err := tg.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			count += m.GetHistogram().GetSampleCount()
			sum += m.GetHistogram().GetSampleSum()
		}
	}
	return count, sum
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	n int
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n += n
	return n, err
}

// TestWireBytesHTTP1 checks istio_request_bytes and istio_response_bytes
// against the bytes of an HTTP/1.1 GET and POST and of their responses, as
// they crossed the client's socket: headers and body, as Istio counts them,
// so that a GET is not 0.
func TestWireBytesHTTP1(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header()["Content-Type"] = []string{"text/plain"}
		w.Header()["Content-Length"] = []string{"5"}
		io.WriteString(w, "hello")
	})
	tg := plainGateway(t, be.addr(), "")
	c, err := net.Dial("tcp", tg.Addr("web").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	cc := &countingConn{Conn: c}
	br := bufio.NewReader(cc)
	body := strings.Repeat("b", 100)
	for i, head := range []string{
		"GET /get?x=1 HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: wire-test\r\nAccept: */*\r\n\r\n",
		"POST /post HTTP/1.1\r\nHost: shop.example\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n" +
			"X-Many: 1\r\nX-Many: 2\r\n\r\n" + body,
	} {
		_, reqBefore := istioHistogram(t, tg, "istio_request_bytes")
		_, respBefore := istioHistogram(t, tg, "istio_response_bytes")
		read := cc.n - br.Buffered()
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
		respWire := cc.n - br.Buffered() - read
		waitUntil(t, "the request in the metrics", func() bool {
			n, _ := istioHistogram(t, tg, "istio_request_bytes")
			return n == uint64(i+1)
		})
		_, reqSum := istioHistogram(t, tg, "istio_request_bytes")
		_, respSum := istioHistogram(t, tg, "istio_response_bytes")
		if got := reqSum - reqBefore; got != float64(len(head)) {
			t.Errorf("request %d: istio_request_bytes observed %v, want %d, the bytes sent", i, got, len(head))
		}
		if got := respSum - respBefore; got != float64(respWire) {
			t.Errorf("request %d: istio_response_bytes observed %v, want %d, the bytes received", i, got, respWire)
		}
	}
}

// TestWireBytesHTTP2 checks the byte counts of a GET and a POST over h2c:
// the decoded header list (Envoy's byteSize()) and the body, so that a GET
// counts its header and a POST the same plus its body and Content-Length.
func TestWireBytesHTTP2(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "hello")
	})
	tg := plainGateway(t, be.addr(), "")
	client := &http.Client{Transport: &http.Transport{Protocols: protocols("h2c"), DisableCompression: true}}
	observe := func(i int, req *http.Request) float64 {
		_, before := istioHistogram(t, tg, "istio_request_bytes")
		req.Header.Set("User-Agent", "wire-test")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
			t.Fatalf("got %s %d, want HTTP/2 200", resp.Proto, resp.StatusCode)
		}
		waitUntil(t, "the request in the metrics", func() bool {
			n, _ := istioHistogram(t, tg, "istio_request_bytes")
			return n == uint64(i)
		})
		_, after := istioHistogram(t, tg, "istio_request_bytes")
		return after - before
	}
	url := tg.url("web") + "/same"
	get, _ := http.NewRequest(http.MethodGet, url, nil)
	gotGet := observe(1, get)
	// :method GET, :scheme http, :authority, :path /same, user-agent.
	least := len(":methodGET:schemehttp:authority:path/sameuser-agentwire-test") + len(tg.Addr("web").String())
	if gotGet < float64(least) {
		t.Errorf("GET: istio_request_bytes observed %v, want at least the %d bytes of its header list", gotGet, least)
	}
	post, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(strings.Repeat("b", 100)))
	gotPost := observe(2, post)
	// The same list with POST for GET, content-length: 100, and the body.
	if want := gotGet + 1 + float64(len("content-length100")) + 100; gotPost != want {
		t.Errorf("POST: istio_request_bytes observed %v, want %v", gotPost, want)
	}
	_, respSum := istioHistogram(t, tg, "istio_response_bytes")
	if respSum < 2*float64(len(":status200hello")) {
		t.Errorf("istio_response_bytes: got %v over two responses, want each header and body counted", respSum)
	}
}

// TestWireBytesEstimates checks the header sizes of requests and responses
// that the tests above cannot see byte for byte.
func TestWireBytesEstimates(t *testing.T) {
	h2 := &http.Request{Method: "GET", RequestURI: "/a?b", Host: "shop", ProtoMajor: 2,
		Header: http.Header{"Accept": {"*/*"}, "X-Two": {"1", "22"}}}
	if got, want := requestHeaderBytes(h2, "https"), int64(len(":methodGET:path/a?b:authorityshop:schemehttpsaccept*/*x-two1x-two22")); got != want {
		t.Errorf("h2 request: got %d, want %d", got, want)
	}
	h1 := &http.Request{Method: "POST", RequestURI: "/", Host: "shop", Proto: "HTTP/1.1", ProtoMajor: 1,
		TransferEncoding: []string{"chunked"}, Header: http.Header{"Accept": {"*/*"}}}
	if got, want := requestHeaderBytes(h1, "http"), int64(len("POST / HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\nAccept: */*\r\n\r\n")); got != want {
		t.Errorf("chunked HTTP/1 request: got %d, want %d", got, want)
	}
	date := "Mon, 02 Jan 2006 15:04:05 GMT"
	for _, tt := range []struct {
		name        string
		proto, code int
		h           http.Header
		want        string
	}{
		{"HTTP/1", 1, 404, http.Header{"Content-Length": {"0"}}, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nDate: " + date + "\r\n\r\n"},
		{"HTTP/1 with a Date", 1, 200, http.Header{"Date": {date}}, "HTTP/1.1 200 OK\r\nDate: " + date + "\r\n\r\n"},
		{"HTTP/1 unknown status", 1, 599, http.Header{}, "HTTP/1.1 599 status code 599\r\nDate: " + date + "\r\n\r\n"},
		{"HTTP/2", 2, 503, http.Header{"Server": {"portcullis"}}, ":status503serverportcullisdate" + date},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := responseHeaderBytes(tt.proto, tt.code, tt.h); got != int64(len(tt.want)) {
				t.Errorf("got %d, want %d (%q)", got, len(tt.want), tt.want)
			}
		})
	}
}

// TestWireBytesAllocs checks that counting the header sizes allocates
// nothing: it runs on every request.
func TestWireBytesAllocs(t *testing.T) {
	r := &http.Request{Method: "GET", RequestURI: "/a", Host: "shop", Proto: "HTTP/1.1", ProtoMajor: 1,
		Header: http.Header{"Accept": {"*/*"}, "User-Agent": {"x"}}}
	h := http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"5"}}
	if n := testing.AllocsPerRun(100, func() {
		requestHeaderBytes(r, "http")
		responseHeaderBytes(1, 200, h)
		responseHeaderBytes(2, 200, h)
	}); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}
