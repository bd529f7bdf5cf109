package gateway

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/portcullis-gw/portcullis/routes"
)

// pathModes are the path normalisation settings the forwarding tests run
// under.
var pathModes = []routes.PathOptions{
	{EscapedSlashes: "keep"}, {EscapedSlashes: "reject"}, {EscapedSlashes: "unescape"},
	{EscapedSlashes: "keep", MergeSlashes: true}, {EscapedSlashes: "reject", MergeSlashes: true},
	{EscapedSlashes: "unescape", MergeSlashes: true},
}

// targetGateway serves, with the path options given, up to three virtual
// hosts alike but for their upstream: h1.test an HTTP/1 upstream on a raw
// socket, h2c.test an h2c one and h2.test one speaking HTTP/2 over TLS, each
// when its address in upstreams is set. On each,
// /admin is blocked with a direct 403, /api/ is rewritten to /v2/, and every
// other path is forwarded; every request's matched path is recorded in
// matched. Listeners: h1 (HTTP/1.1), h2c (HTTP/1.1 and h2c) and, with ca,
// edge (TLS with HTTP/1.1, HTTP/2 and HTTP/3).
func targetGateway(tb testing.TB, opts routes.PathOptions, ca *testCA, matched *targets, upstreams [3]string) *testGateway {
	tb.Helper()
	var vhosts, ups strings.Builder
	for i, name := range []string{"h1", "h2c", "h2"} {
		if upstreams[i] == "" {
			continue
		}
		fmt.Fprintf(&vhosts, `
  - name: %[1]s
    hosts: [%[1]s.test]
    plugins: [ { matched_path: {} } ]
    routes:
      - { name: admin, match: { path: /admin }, direct_response: { status: 403, body: blocked } }
      - { name: rewrite, match: { path_prefix: /api/ }, upstream: %[1]s, prefix_rewrite: /v2/ }
      - { name: main, match: { path_prefix: / }, upstream: %[1]s }`, name)
		extra := ""
		switch name {
		case "h2c":
			extra = "protocol: http2"
		case "h2":
			extra = fmt.Sprintf("protocol: http2, tls: { ca_file: %q, server_name: backend.internal }", ca.caFile)
		}
		fmt.Fprintf(&ups, "\n  - { name: %s, endpoints: [%q], %s }", name, upstreams[i], extra)
	}
	edge := ""
	if ca != nil {
		crt, key := ca.issue(tb, "localhost", "127.0.0.1")
		edge = fmt.Sprintf(`
  - { name: edge, address: "127.0.0.1:0", protocols: [http1, http2, http3], tls: { certificates: [ { cert: %q, key: %q } ] } }`, crt, key)
	}
	return startGateway(tb, fmt.Sprintf(`
admin: { address: "off" }
path_normalization: { merge_slashes: %v, escaped_slashes: %s }
listeners:
  - { name: h1, address: "127.0.0.1:0" }
  - { name: h2c, address: "127.0.0.1:0", protocols: [http1, http2] }%s
virtual_hosts:%s
upstreams:%s
`, opts.MergeSlashes, opts.EscapedSlashes, edge, vhosts.String(), ups.String()), matchedPath(matched))
}

// modeWant is what a request target becomes under each escaped_slashes mode
// (keep, reject, unescape): the exact target the upstream receives, or
// "400" or "403" when it must receive nothing.
type modeWant [3]string

func alike(s string) modeWant { return modeWant{s, s, s} }

func modeIndex(o routes.PathOptions) int {
	return strings.Index("kru", o.EscapedSlashes[:1])
}

// TestForwardedTargetIsMatchedPath sends hostile request targets over each
// client protocol, to upstreams speaking each protocol, under every path
// normalisation mode, and checks the exact bytes of the request target the
// upstream receives: the path the route matched, with its query in normal form,
// and never a path that an exact-path rule blocks.
func TestForwardedTargetIsMatchedPath(t *testing.T) {
	tests := []struct {
		name, target string
		want         modeWant
		merged       *modeWant // when merge_slashes changes want
	}{
		{"raw brace before escaped slashes", "/x/{%2F..%2F..%2Fadmin", modeWant{"/x/%7B%2F..%2F..%2Fadmin", "400", "403"}, nil},
		{"escaped brace alike", "/x/%7b%2F..%2F..%2Fadmin", modeWant{"/x/%7B%2F..%2F..%2Fadmin", "400", "403"}, nil},
		{"utf-8 before escaped slashes", "/x/\xc3\xa9%2F..%2Fadmin", modeWant{"/x/%C3%A9%2F..%2Fadmin", "400", "/x/admin"}, nil},
		{"bytes a path holds only escaped", "/a|b^c`d\"e<f>g[h]i{j}", alike("/a%7Cb%5Ec%60d%22e%3Cf%3Eg%5Bh%5Di%7Bj%7D"), nil},
		{"sub-delimiters raw and escaped kept apart", "/a%3bb;c/(x)!*'$,=:@+&", alike("/a%3Bb;c/(x)!*'$,=:@+&"), nil},
		{"escaped backslashes", "/a%5C..%5Cadmin", modeWant{"/a%5C..%5Cadmin", "400", "403"}, nil},
		{"escaped dot segment", "/static/%2E%2E/admin", alike("403"), nil},
		{"dot-dot with parameters, which servlet containers resolve", "/static/..;/admin", alike("400"), nil},
		{"escaped dot-dot with parameters", "/static/%2e%2E;x=1/admin", alike("400"), nil},
		{"raw backslashes", `/x\..\admin`, alike("403"), nil},
		{"space", "/a b", alike("400"), nil},
		{"unreserved escape", "/adm%69n", alike("403"), nil},
		{"leading double slash", "//admin", alike("//admin"), &modeWant{"403", "403", "403"}},
		{"escaped slash first", "/%2Fadmin", modeWant{"/%2Fadmin", "400", "//admin"}, &modeWant{"/%2Fadmin", "400", "403"}},
		{"blocked path with a query", "/admin?x=1", alike("403"), nil},
		{"empty query", "/x?", alike("/x"), nil},
		{"query bytes a URL holds only escaped", "/x?q={\"a\"}&\xff%zz/../\\", alike("/x?q=%7B%22a%22%7D&%FF%zz/../%5C"), nil},
		{"fragment", "/admin#frag", alike("400"), nil},
		{"fragment in the query", "/x?q#frag", alike("400"), nil},
		{"double encoding decoded once", "/a%25%32%46b", alike("/a%252Fb"), nil},
		{"bidi override", "/%e2%80%ae/x", alike("/%E2%80%AE/x"), nil},
		{"bytes from 0x80", "/\xff\xfe\x80", alike("/%FF%FE%80"), nil},
		{"prefix rewrite keeps escapes", "/api/{%2F..", modeWant{"/v2/%7B%2F..", "400", "/v2/"}, nil},
		{"prefix rewrite of utf-8", "/api/\xc3\xa9", alike("/v2/%C3%A9"), nil},
		{"dot segments", "/a/./b/../c", alike("/a/c"), nil},
		{"trailing slash is another path", "/admin/x/..", alike("/admin/"), nil},
		{"empty segments", "/a//b", alike("/a//b"), &modeWant{"/a/b", "/a/b", "/a/b"}},
	}
	ca := newTestCA(t)
	var h3t *http3.Transport
	var h2c *http.Client
	clients := []struct {
		name      string
		listener  string
		send      func(t *testing.T, tg *testGateway, target, host, id string) int
		upstreams []string
	}{
		{"HTTP/1.1", "h1", func(t *testing.T, tg *testGateway, target, host, id string) int {
			return sendRaw(t, tg.Addr("h1").String(), target, host, id)
		}, []string{"h1", "h2c", "h2"}},
		{"h2c", "h2c", func(t *testing.T, tg *testGateway, target, host, id string) int {
			return sendVia(t, h2c, "http", tg.Addr("h2c").String(), target, host, id)
		}, []string{"h1"}},
		{"HTTP/3", "edge", func(t *testing.T, tg *testGateway, target, host, id string) int {
			return sendVia(t, &http.Client{Transport: h3t}, "https", tg.Addr("edge").String(), target, host, id)
		}, []string{"h1"}},
	}
	received, matched := newTargets(), newTargets()
	upstreams := [3]string{targetBackend(t, received), h2cBackend(t, received), tlsBackendWith(t, ca, true, recordURI(received))}
	n := 0
	for _, opts := range pathModes {
		t.Run(fmt.Sprintf("escaped_slashes=%s,merge_slashes=%v", opts.EscapedSlashes, opts.MergeSlashes), func(t *testing.T) {
			tg := targetGateway(t, opts, ca, matched, upstreams)
			// Clients close their connections before the gateway shuts
			// down, which would otherwise wait for them.
			h3t = &http3.Transport{TLSClientConfig: ca.clientTLS("localhost")}
			h2c = &http.Client{Transport: &http.Transport{Protocols: protocols("h2c")}}
			t.Cleanup(func() { h3t.Close(); h2c.CloseIdleConnections() })
			var logged []string
			for _, c := range clients {
				for _, up := range c.upstreams {
					for _, tt := range tests {
						if c.name != "HTTP/1.1" && strings.ContainsAny(tt.target, " #") {
							continue // not a valid :path to send
						}
						want := tt.want[modeIndex(opts)]
						if tt.merged != nil && opts.MergeSlashes {
							want = tt.merged[modeIndex(opts)]
						}
						n++
						id := "target-" + strconv.Itoa(n)
						status := c.send(t, tg, tt.target, up+".test", id)
						got, forwarded := received.get(id)
						m, _ := matched.get(id)
						where := fmt.Sprintf("%s to %s upstream: %s %q", c.name, up, tt.name, tt.target)
						switch want {
						case "400", "403":
							if strconv.Itoa(status) != want || forwarded {
								t.Errorf("%s: got %d, forwarded %v %q, want %s and nothing forwarded", where, status, forwarded, got.uri, want)
							}
							if want == "403" {
								if p, _, _ := strings.Cut(m.uri, "?"); p != "/admin" {
									t.Errorf("%s: matched %q, want /admin", where, m.uri)
								}
							}
							continue
						}
						if status != 200 || got.uri != want {
							t.Errorf("%s: got %d, upstream target %q, want 200 and %q", where, status, got.uri, want)
							continue
						}
						checkForwarded(t, where, opts, got.uri, m.uri)
						logged = append(logged, id, got.uri)
					}
				}
			}
			checkLoggedPaths(t, tg, logged)
		})
	}
}

// checkForwarded checks the target an upstream received against what the
// route matched: identical (but for the prefix rewrite), and already normal,
// so that the upstream, normalising it again, reads the same path.
func checkForwarded(t *testing.T, where string, opts routes.PathOptions, got, matched string) {
	t.Helper()
	path, _, _ := strings.Cut(got, "?")
	if n, err := routes.NormalizePath(path, opts); n != path || err != nil {
		t.Errorf("%s: upstream target %q normalises to %q, %v; want itself", where, got, n, err)
	}
	if !strings.HasPrefix(matched, "/api/") && got != matched {
		t.Errorf("%s: upstream target %q, route matched %q: want them identical", where, got, matched)
	}
}

// checkLoggedPaths checks that the access log records, for each id of
// pairs (id, target), the target the upstream received.
func checkLoggedPaths(t *testing.T, tg *testGateway, pairs []string) {
	t.Helper()
	paths := make(map[string]any)
	all := func() bool {
		for i := 0; i < len(pairs); i += 2 {
			if _, ok := paths[pairs[i]]; !ok {
				return false
			}
		}
		return true
	}
	for end := deadline(); !all() && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond) // lines wait up to the flush interval
		for _, e := range readLog(t, tg.logPath) {
			if id, ok := e["request_id"].(string); ok {
				// The forwarded path: rewritten_path after a
				// rewrite, path (the one asked for) without one.
				paths[id] = e["path"]
				if rw := e["rewritten_path"]; rw != nil {
					paths[id] = rw
				}
			}
		}
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		// JSON holds text: bytes that are not UTF-8 are logged as U+FFFD.
		want := strings.ToValidUTF8(pairs[i+1], "\uFFFD")
		if got, ok := paths[pairs[i]]; got != want {
			t.Errorf("request %s: logged path %q (logged: %v), want %q", pairs[i], got, ok, want)
		}
	}
}
