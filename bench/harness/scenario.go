package harness

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis-gw/portcullis/bench/load"
)

// scenario is one shape of load, run against every contender in turn.
type scenario struct {
	name, title string
	// proto is the load generator's protocol; tls targets the TLS port.
	proto string
	tls   bool
	// method, path and body describe the request.
	method, path string
	body         int
	// conns and streams: connections, and requests in flight on each.
	conns, streams int
	// newConn opens a connection (a TLS handshake) per request.
	newConn bool
	// idle holds that many idle keep-alive connections during the run; the
	// harness's -idle option sets it.
	idle bool
	// h3 marks the scenarios only contenders serving HTTP/3 can run.
	h3 bool
	// cross names the external tool that cross-checks it, if installed.
	cross string
	// reload runs each round twice, without reloads and while the
	// contender reloads its configuration every -reload-every; only the
	// contenders that have a configuration run it.
	reload bool
	// missing says which part of the gateway the scenario waits for; a
	// scenario with it set is reported as skipped.
	missing string
	// waf marks the WAF scenarios, run by the contenders with a WAF only,
	// each checked first with wafChecks.
	waf *wafLoad
	// egress marks the egress scenarios: the load reaches the backend
	// through CONNECT tunnels of the contender, a forward proxy, and the
	// backend alone is reached directly.
	egress bool
	// header are extra request header lines, bodyText the request body
	// (written to bodyFile for the load generator), expect the status
	// every answer must have; load.Seq in the path's query, the header
	// and the body varies each request.
	header   []string
	bodyText string
	bodyFile string
	expect   int
}

// scenarios is every scenario in the order they run and are reported.
var scenarios = slices.Concat([]scenario{
	{name: "h1", title: "plain proxy, HTTP/1.1 → HTTP/1.1", proto: "h1", method: "GET", path: "/1k",
		conns: 32, streams: 1, cross: "wrk"},
	{name: "h2", title: "TLS, HTTP/2 → HTTP/1.1", proto: "h2", tls: true, method: "GET", path: "/1k",
		conns: 4, streams: 8, cross: "h2load"},
	{name: "h3", title: "HTTP/3 → HTTP/1.1", proto: "h3", tls: true, method: "GET", path: "/1k",
		conns: 4, streams: 8, h3: true},
	{name: "tls-new", title: "new TLS connections per second (a full handshake per request)", proto: "h1",
		tls: true, method: "GET", path: "/0", conns: 16, streams: 1, newConn: true},
	{name: "up", title: "large bodies up: POST 1 MiB", proto: "h1", method: "POST", path: "/0", body: 1 << 20,
		conns: 8, streams: 1},
	{name: "down", title: "large bodies down: GET 1 MiB", proto: "h1", method: "GET", path: "/1m",
		conns: 8, streams: 1},
	{name: "conns", title: "many connections: idle keep-alive connections held while measuring", proto: "h1",
		method: "GET", path: "/1k", conns: 32, streams: 1, idle: true},
	{name: "reload", title: "reload under load: the configuration rewritten and reloaded during the h1 load", proto: "h1",
		method: "GET", path: "/1k", conns: 32, streams: 1, reload: true},
}, wafScenarios(), []scenario{
	{name: "policy", title: "AuthorizationPolicy on SPIFFE identities from mutual TLS",
		missing: "not built yet: the gateway decides AuthorizationPolicy, but the bench has no load of callers with identities to measure it by"},
	{name: "egress-bytes", title: "egress: bytes through a CONNECT tunnel (GET 1 MiB, × 1 MiB = bytes/s)", proto: "h1",
		method: "GET", path: "/1m", conns: 4, streams: 1, egress: true},
	{name: "egress-tls", title: "egress: new TLS tunnels per second (CONNECT, TLS handshake, one request)", proto: "h1",
		tls: true, method: "GET", path: "/0", conns: 16, streams: 1, newConn: true, egress: true},
})

// inGroup says whether the scenario is in the group -scenario names:
// "waf" is every WAF scenario, "egress" both egress scenarios.
func (s scenario) inGroup(name string) bool {
	return (name == "waf" && s.waf != nil) || (name == "egress" && s.egress)
}

// describe says what load the scenario sends, for the report; idle is the
// number of idle connections held and every the interval between reloads,
// where the scenario has them.
func (s scenario) describe(idle int, every time.Duration) string {
	conns := fmt.Sprintf("%d connections", s.conns)
	if s.streams > 1 {
		conns = fmt.Sprintf("%d connections × %d streams", s.conns, s.streams)
	}
	if s.newConn {
		conns = fmt.Sprintf("%d concurrent clients, a new connection and TLS handshake (X25519, ECDSA P-256) per request", s.conns)
	}
	req := s.method + " " + s.path
	if s.waf != nil {
		if s.bodyText != "" {
			req += fmt.Sprintf(" with %d bytes of JSON", len(load.Expand(s.bodyText, 0)))
		}
		req += fmt.Sprintf(" and a browser's header, where %s is a number no other request of the run has; every answer must be %d",
			load.Seq, s.expect)
	}
	switch {
	case s.body >= 1<<20 && s.body%(1<<20) == 0:
		req = fmt.Sprintf("%s with a %d MiB body", req, s.body>>20)
	case s.body > 0:
		req = fmt.Sprintf("%s with a %d-byte body", req, s.body)
	}
	out := fmt.Sprintf("%s%s, %s, closed loop, %s", s.proto, map[bool]string{true: " over TLS", false: ""}[s.tls && s.proto == "h1"], conns, req)
	if s.idle {
		out += fmt.Sprintf(", while %s idle keep-alive connections are held open", thousands(idle))
	}
	if s.reload {
		out += fmt.Sprintf(", while the contender reloads its configuration every %v", every)
	}
	if s.egress {
		out += ", each connection a CONNECT tunnel through the forward proxy to the backend (the backend alone: direct)"
	}
	return out
}

// pick returns the scenarios named, in their usual order; empty or "all"
// picks every one.
func pick(names []string) ([]scenario, error) {
	if len(names) == 0 || (len(names) == 1 && names[0] == "all") {
		return scenarios, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []scenario
	for _, s := range scenarios {
		picked := false
		for n := range want {
			if s.name == n || s.inGroup(n) {
				picked = true
			}
		}
		if picked {
			out = append(out, s)
		}
	}
	for _, s := range scenarios {
		delete(want, s.name)
		if s.waf != nil {
			delete(want, "waf")
		}
		if s.egress {
			delete(want, "egress")
		}
	}
	if len(want) > 0 {
		known := []string{"waf", "egress"}
		for _, s := range scenarios {
			known = append(known, s.name)
		}
		var unknown []string
		for n := range want {
			unknown = append(unknown, n)
		}
		return nil, fmt.Errorf("unknown scenario %s; known: %s", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return out, nil
}

// thousands writes n with comma separators, as the report writes counts.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
