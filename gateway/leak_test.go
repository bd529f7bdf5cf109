package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/internal/loopbacktest"
)

// countingBackend is a raw HTTP/1 upstream that acts on the request's path
// and counts its open connections: the gateway's upstream connections.
type countingBackend struct {
	addr string
	open atomic.Int64
}

// The failures the leak test makes, by the path the backend acts on.
var leakPaths = map[string]string{
	"/reset-before": "",
	"/reset-mid":    "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n0123456789",
	"/timeout":      "",
	"/stall-mid":    "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n0123456789",
	"/big-header":   "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\nContent-Length: 0\r\n\r\n",
	"/bad-status":   "HTTP/1.1 999 Nine\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	"/hints":        strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", 50) + "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
	"/slow":         "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(bigBody)) + "\r\nConnection: close\r\n\r\n",
}

func newCountingBackend(t *testing.T) *countingBackend {
	b := &countingBackend{}
	b.addr = serveRaw(t, nil, func(c net.Conn) {
		b.open.Add(1)
		defer b.open.Add(-1)
		br := bufio.NewReader(c)
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if l == "\r\n" {
				break
			}
		}
		path := strings.Fields(line + " -")[1]
		io.WriteString(c, leakPaths[path])
		switch path {
		case "/slow":
			c.Write(bigBody)
		case "/timeout", "/stall-mid":
			io.Copy(io.Discard, c) // until the gateway closes the connection
		}
	})
	return b
}

// TestNoLeaksAfterFailedExchanges runs rounds of every kind of failed
// exchange the gateway can meet (1xx floods included) and checks that, once they are over, its
// upstream connections, goroutines and portcullis_upstream_requests_active
// are back where they started.
func TestNoLeaksAfterFailedExchanges(t *testing.T) {
	be := newCountingBackend(t)
	refused := loopbacktest.RefusedAddr(t)
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "127.0.0.1:0" }
listeners: [ { name: web, address: "127.0.0.1:0", protocols: [http1, http2], limits: { write_timeout: 200ms } } ]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: refused, match: { path: /refused }, upstream: dead }
      - { name: main, match: { path_prefix: / }, upstream: hostile, timeout: 300ms }
upstreams:
  - { name: hostile, endpoints: [%q] }
  - { name: dead, endpoints: [%q] }
`, be.addr, refused))
	web := tg.Addr("web").String()
	client := &http.Client{Transport: &http.Transport{Protocols: protocols("h2c")}}
	var slow atomic.Int64
	exchanges := []func(){
		func() { rawExchange(t, web, "GET /refused HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") },
		func() { rawExchange(t, web, "GET /bad-status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") },
		func() { rawExchange(t, web, "GET /big-header HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") },
		func() { rawExchange(t, web, "GET /hints HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") },
		func() { rawExchange(t, web, "GET /reset-before HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") },
		func() { rawExchange(t, web, "GET /reset-mid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") },
		func() { rawExchange(t, web, "GET /timeout HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") },
		func() { rawExchange(t, web, "GET /stall-mid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") },
		func() { // the client goes before the answer
			c, err := net.Dial("tcp", web)
			if err == nil {
				io.WriteString(c, "GET /timeout HTTP/1.1\r\nHost: x\r\n\r\n")
				time.Sleep(50 * time.Millisecond)
				c.Close()
			}
		},
		func() { // the client takes nothing: write_timeout cuts it off
			c, err := net.Dial("tcp", web)
			if err == nil {
				defer c.Close()
				c.(*net.TCPConn).SetReadBuffer(4 << 10)
				id := fmt.Sprint("slow-", slow.Add(1))
				fmt.Fprintf(c, "GET /slow HTTP/1.1\r\nHost: x\r\nX-Request-Id: %s\r\n\r\n", id)
				// Until the exchange is over: its line is logged.
				end := deadline()
				for !logged(tg, id) {
					if time.Now().After(end) {
						t.Errorf("slow client %s: no access-log line; want the exchange ended by write_timeout", id)
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		},
		func() { // the same failures over HTTP/2
			for _, p := range []string{"/refused", "/bad-status", "/hints", "/reset-mid", "/stall-mid", "/timeout"} {
				if resp, err := client.Get(tg.url("web") + p); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		},
	}
	run := func(rounds int) {
		for range rounds {
			var wg sync.WaitGroup
			for _, ex := range exchanges {
				wg.Go(ex)
			}
			wg.Wait()
		}
		client.CloseIdleConnections()
	}
	run(1) // every path's lazily started goroutines are running now
	waitFor(t, "the first round to settle", func() bool { return be.open.Load() == 0 && activeRequests(t, tg) == 0 })
	baseline := runtime.NumGoroutine()
	run(5)
	waitFor(t, "the upstream connections to close", func() bool { return be.open.Load() == 0 })
	waitFor(t, "portcullis_upstream_requests_active to return to 0", func() bool { return activeRequests(t, tg) == 0 })
	waitFor(t, fmt.Sprintf("the goroutines to return to their baseline of %d", baseline), func() bool {
		return runtime.NumGoroutine() <= baseline
	})
}

// activeRequests sums portcullis_upstream_requests_active over upstreams.
func activeRequests(t *testing.T, tg *testGateway) float64 {
	t.Helper()
	resp, err := http.Get("http://" + tg.AdminAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "portcullis_upstream_requests_active{") {
			v, _ := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			sum += v
		}
	}
	return sum
}

// logged reports whether the access log has the line of request id.
func logged(tg *testGateway, id string) bool {
	for _, e := range readLog(tg.t, tg.logPath) {
		if e["request_id"] == id {
			return true
		}
	}
	return false
}
