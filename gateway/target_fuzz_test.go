package gateway

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portcullis-gw/portcullis/routes"
)

// FuzzForwardedTarget sends any request target through a gateway, under
// each path normalisation mode, to upstreams that record the request target
// they receive (HTTP/1 on a raw socket, and h2c), and checks the bytes: what
// an upstream receives is exactly the path the route matched with the query
// as sent, normalising it again changes nothing, and it is what
// routes.NormalizePath makes of the target; a target that normalises to
// /admin, which a route blocks, never reaches an upstream; and one the
// gateway cannot read gets 400. Run it in CI with
//
//	go test ./gateway -run '^$' -fuzz '^FuzzForwardedTarget$' -fuzztime 20s
func FuzzForwardedTarget(f *testing.F) {
	for _, s := range []string{
		"/", "/x/{%2F..%2F..%2Fadmin", "/x/%7b%2f..%2F..%2fadmin", "/x/\xc3\xa9%2F..%2Fadmin", "/a|b^c`d\"e<f>g[h]i{j}",
		"/a%3bb;c/(x)!*'$,=:@+&", "/a%5C..%5Cadmin", "/static/%2E%2E/admin", "/static/..;/admin", `/x\..\admin`,
		"/a b", "/adm%69n", "//admin", "/%2Fadmin", "/admin?x=1", "/x?q={\"a\"}&\xff%zz", "/admin#frag", "/x?q#f",
		"/a%25%32%46b", "/%e2%80%ae/x", "/\xff\xfe\x80", "/api/{%2F..", "/api//x", "/a/./b/../c", "/a//b", "/x?",
		"http://h1.test/admin#frag", "http://h1.test/x/{%2F..%2Fadmin", "http://h1.test", "http://h1.test?q",
		"http://u@h1.test/x", "HTTP://h1.test/%2e%2e/admin", "ftp://h1.test/x", "*", "h1.test:80", "/a\x7f", "/%00",
	} {
		for mode := range uint8(len(pathModes) * 2) {
			f.Add(s, mode)
		}
	}
	received, matched := newTargets(), newTargets()
	upstreams := [3]string{targetBackend(f, received), h2cBackend(f, received)}
	gateways := make([]*testGateway, len(pathModes))
	for i, opts := range pathModes {
		gateways[i] = targetGateway(f, opts, nil, matched, upstreams)
	}
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, target string, mode uint8) {
		if strings.ContainsAny(target, "\r\n") || len(target) > 2048 {
			t.Skip("framing and size are the HTTP/1 guard's")
		}
		opts, tg := pathModes[int(mode)%len(pathModes)], gateways[int(mode)%len(pathModes)]
		host := []string{"h1.test", "h2c.test"}[int(mode)/len(pathModes)%2]
		id := "fuzz-" + strconv.FormatInt(n.Add(1), 10)
		status := sendRaw(t, tg.Addr("h1").String(), target, host, id)
		got, forwarded := received.get(id)
		m, _ := matched.get(id)
		if forwarded {
			where := "target " + strconv.Quote(target) + " to " + host
			checkForwarded(t, where, opts, got.uri, m.uri)
			if p, _, _ := strings.Cut(got.uri, "?"); p == "/admin" || status != 200 {
				t.Fatalf("%s: upstream received %q, answer %d", where, got.uri, status)
			}
		}
		want, wantStatus := expectedTarget(target, opts)
		switch {
		case wantStatus != 0 && (status != wantStatus || forwarded):
			t.Fatalf("target %q: got %d, upstream received %q (%v), want %d and nothing received", target, status, got.uri, forwarded, wantStatus)
		case wantStatus == 0 && want != "" && got.uri != want:
			t.Fatalf("target %q: got %d, upstream received %q (%v), want %q", target, status, got.uri, forwarded, want)
		case wantStatus == 0 && !forwarded && status != 400 && status != 403 && status != 404:
			t.Fatalf("target %q: got %d and nothing received, want 400, 403 or 404", target, status)
		}
	})
}

// expectedTarget is what an origin-form target must become, independently
// of the gateway: a status when nothing may reach an upstream (400 for what
// cannot be read, 403 for the blocked /admin), else the target the upstream
// receives ("" for a prefix rewrite, which checkForwarded covers). For other
// forms it expects nothing in particular.
func expectedTarget(target string, opts routes.PathOptions) (string, int) {
	if strings.ContainsFunc(target, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", 400
	}
	if !strings.HasPrefix(target, "/") {
		return "", 0
	}
	path, query, _ := strings.Cut(target, "?")
	n, err := routes.NormalizePath(path, opts)
	query, qerr := routes.NormalizeQuery(query)
	switch {
	case err != nil || qerr != nil:
		return "", 400
	case n == "/admin":
		return "", 403
	case strings.HasPrefix(n, "/api/"):
		return "", 0
	}
	return withQuery(n, query), 0
}
