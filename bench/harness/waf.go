package harness

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/portcullis-gw/portcullis/bench/load"
	"github.com/portcullis-gw/portcullis/bench/peers"
)

// wafSettings are the settings both sides of a WAF scenario run with: the
// gateway's default profile at the paranoia level given (anomaly
// thresholds 5 and 4, blocking, request bodies up to 1 MiB inspected,
// responses not), which nginx's ModSecurity configuration copies. Nil
// for paranoia level 0: no WAF.
func wafSettings(paranoia int) *peers.WAF {
	if paranoia == 0 {
		return nil
	}
	return &peers.WAF{Paranoia: paranoia, InboundThreshold: 5, OutboundThreshold: 4,
		BodyLimit: 1 << 20, InspectedBytes: 64 << 10, Args: 512, Depth: 32}
}

// wafHeader is the header of a browser's or an API client's request, sent
// with every WAF load: a request without Accept or a usual User-Agent adds
// to the CRS's anomaly score at paranoia level 2.
var wafHeader = []string{
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	"Accept: application/json, text/plain, */*",
	"Accept-Language: en-GB,en;q=0.5",
	"Cookie: session=" + load.Seq + "; theme=dark",
}

// setHeader sets header lines on req as request n of a load sends them.
func setHeader(req *http.Request, lines []string, n uint64) {
	for _, h := range lines {
		name, value, _ := strings.Cut(load.Expand(h, n), ":")
		req.Header.Set(name, strings.TrimSpace(value))
	}
}

// wafRequest is one of the WAF scenarios' requests, with load.Seq where
// each request has its own number.
type wafRequest struct {
	method, path, ctype, body string
	// status is the answer every contender must give.
	status int
}

// wafRequests are the three loads of the WAF scenarios, by name.
var wafRequests = map[string]wafRequest{
	// get is a search page's GET with a query of three arguments.
	"get": {method: "GET", path: "/1k?page=2&order=price&q=blue+shoes+" + load.Seq, status: http.StatusOK},
	// json is an API's POST of an order: 4 KiB of JSON, 244 values.
	"json": {method: "POST", path: "/0", ctype: "application/json", body: order("Leave at the door"), status: http.StatusOK},
	// attack is an SQL injection in the query, which every paranoia
	// level of both CRS versions blocks.
	"attack": {method: "GET", path: "/1k?q=" + load.Seq + url.QueryEscape("' UNION SELECT password FROM users WHERE id=") +
		load.Seq + "--", status: http.StatusForbidden},
}

// order is a JSON order of 60 items, about 4 KiB with its numbers in,
// whose values each hold the request's number, so that none repeats from
// one request to the next. note is its last value.
func order(note string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"order":%s,"customer":{"name":"Customer %s","email":"c%s@example.com"},"items":[`, load.Seq, load.Seq, load.Seq)
	for j := range 60 {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%s-%02d","qty":%d,"price":%d.%02d,"gift":%t}`, load.Seq, j, j%5+1, 10+j, (j*37)%100, j%7 == 0)
	}
	fmt.Fprintf(&b, `],"note":%q}`, note)
	return b.String()
}

// wafConns is the WAF loads' connections: enough to keep one core busy
// while the load generator reads each answer, few enough that the
// latency is the inspection's and not a queue's.
const wafConns = 4

// wafScenarios are the WAF scenarios: each load at paranoia levels 1 and 2.
func wafScenarios() []scenario {
	var out []scenario
	for _, pl := range []int{1, 2} {
		for _, kind := range []string{"get", "json", "attack"} {
			r := wafRequests[kind]
			out = append(out, scenario{
				name:  fmt.Sprintf("waf-%s-pl%d", kind, pl),
				title: fmt.Sprintf("WAF, CRS at paranoia level %d: %s", pl, wafTitles[kind]),
				proto: "h1", method: r.method, path: r.path, conns: wafConns, streams: 1,
				waf: &wafLoad{paranoia: pl, kind: kind}, header: slices.Concat(wafHeader, headerIf("Content-Type", r.ctype)),
				bodyText: r.body, expect: r.status,
			})
		}
	}
	return out
}

var wafTitles = map[string]string{
	"get":    "benign GET with a query",
	"json":   "benign POST of 4 KiB of JSON (244 values)",
	"attack": "SQL injection in the query, answered 403",
}

// wafLoad marks a WAF scenario: the paranoia level and the load's name.
type wafLoad struct {
	paranoia int
	kind     string
}

func headerIf(name, value string) []string {
	if value == "" {
		return nil
	}
	return []string{name + ": " + value}
}

// wafChecks are what a contender must answer before it is measured in a
// WAF scenario: each load's request, and an attack in a JSON body, which
// only a WAF that reads request bodies blocks. A contender that lets an
// attack through, or blocks a benign request, is not reported: it would
// win by not doing the work.
var wafChecks = []struct {
	name string
	req  wafRequest
}{
	{"benign GET", wafRequests["get"]},
	{"benign JSON POST", wafRequests["json"]},
	{"SQL injection in the query", wafRequests["attack"]},
	{"XSS in a JSON body", wafRequest{method: "POST", path: "/0", ctype: "application/json",
		body: order("<script>alert(document.cookie)</script>"), status: http.StatusForbidden}},
}

// checkWAF sends each check to the contender at a, and says which answer
// was wrong.
func checkWAF(ctx context.Context, a addrs) error {
	client := &http.Client{Timeout: probeTimeout}
	defer client.CloseIdleConnections()
	for i, c := range wafChecks {
		got, err := send(ctx, client, "http://"+a.plain, c.req, uint64(i))
		if err != nil {
			return fmt.Errorf("check %q: %w", c.name, err)
		}
		if got != c.req.status {
			return fmt.Errorf("check %q: %s %s answered %d, want %d", c.name, c.req.method,
				load.Expand(c.req.path, uint64(i)), got, c.req.status)
		}
	}
	return nil
}

// send sends r as request n of a load would, and returns the status.
func send(ctx context.Context, client *http.Client, base string, r wafRequest, n uint64) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*probeTimeout)
	defer cancel()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(load.Expand(r.body, n))
	}
	req, err := http.NewRequestWithContext(ctx, r.method, base+load.Expand(r.path, n), body)
	if err != nil {
		return 0, err
	}
	setHeader(req, slices.Concat(wafHeader, headerIf("Content-Type", r.ctype)), n)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, err
}
