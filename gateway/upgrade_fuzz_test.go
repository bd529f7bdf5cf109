package gateway

import (
	"errors"
	"net/http"
	"net/http/httputil"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// FuzzUpgradeFor runs requests with any Upgrade, Connection and
// HTTP2-Settings headers through upgradeFor and then the reverse proxy the
// gateway uses, and checks what would go upstream: never h2c nor
// HTTP2-Settings, and an upgrade only to the one protocol upgradeFor
// chose, which the route allows; a refused request goes nowhere.
func FuzzUpgradeFor(f *testing.F) {
	for _, s := range [][4]string{
		{"websocket", "", "Upgrade", ""},
		{"h2c", "", "Upgrade, HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA"},
		{"h2c, websocket", "", "upgrade", ""},
		{"websocket", "h2c", "keep-alive, Upgrade", ""},
		{"foo/2", "FOO/2", "Upgrade", "x"},
		{"WebSocket", "", "close,upgrade", ""},
		{" , ,websocket ,", "", "UPGRADE", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], uint8(1))
	}
	allows := func(p string) bool { return strings.EqualFold(p, "websocket") || strings.EqualFold(p, "foo/2") }
	f.Fuzz(func(t *testing.T, up1, up2, conn, settings string, minor uint8) {
		for _, v := range []string{up1, up2, conn, settings} {
			if !httpguts.ValidHeaderFieldValue(v) {
				return // the server refuses such a request before the gateway sees it
			}
		}
		r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
		r.ProtoMinor = int(minor % 2)
		r.Header["Upgrade"] = []string{up1}
		if up2 != "" {
			r.Header["Upgrade"] = append(r.Header["Upgrade"], up2)
		}
		r.Header["Connection"] = []string{conn}
		r.Header["Http2-Settings"] = []string{settings}
		protocol, ok := upgradeFor(r, allows)
		if !ok {
			if protocol != "" {
				t.Fatalf("refused, yet protocol %q", protocol)
			}
			return
		}
		if protocol != "" && (!allows(protocol) || strings.ContainsAny(protocol, ", ") || r.ProtoMinor != 1) {
			t.Fatalf("upgrade to %q from %q, %q on HTTP/1.%d", protocol, up1, up2, r.ProtoMinor)
		}
		out := forwardedBy(t, r)
		if v, ok := out["Http2-Settings"]; ok {
			t.Fatalf("HTTP2-Settings %q forwarded", v)
		}
		got := strings.Join(out["Upgrade"], ",")
		if got != protocol {
			t.Fatalf("Upgrade forwarded: got %q, want %q (from %q, %q, Connection %q)", got, protocol, up1, up2, conn)
		}
		if upgrading := httpguts.HeaderValuesContainsToken(out["Connection"], "upgrade"); upgrading != (protocol != "") {
			t.Fatalf("Connection forwarded: %q with Upgrade %q", out["Connection"], got)
		}
	})
}

// forwardedBy returns the header that the reverse proxy would send
// upstream for r.
func forwardedBy(t *testing.T, r *http.Request) http.Header {
	var out http.Header
	errSent := errors.New("captured")
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.Out.URL.Host = "backend" },
		Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
			out = req.Header.Clone()
			return nil, errSent
		}),
		ErrorHandler: func(http.ResponseWriter, *http.Request, error) {},
	}
	rp.ServeHTTP(discardWriter{}, r)
	if out == nil {
		t.Fatal("the proxy sent nothing")
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) WriteHeader(int)             {}
