package gateway

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/gateway/xfcc"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// frontPeer is the caller the XFCC tests trust to forward the header.
const frontPeer = "cluster.local/ns/edge/sa/front"

// xfccListener is a meshListener (client_auth optional) with the given
// forward_client_cert, which may be empty for the default.
func xfccListener(name, fcc string) string {
	l := meshListener(name, "127.0.0.1:0", "optional")
	if fcc == "" {
		return l
	}
	return strings.TrimSuffix(l, " }") + ", headers_with_underscores: allow, forward_client_cert: " + fcc + " }"
}

// ownElement is the element the gateway writes for a caller presenting s.
func ownElement(s *devca.SVID) string {
	leaf := s.Certificates[0]
	sum := sha256.Sum256(leaf.Raw)
	return fmt.Sprintf(`By=%s;Hash=%s;Subject="%s";URI=%s`, gatewayID, hex.EncodeToString(sum[:]), leaf.Subject, leaf.URIs[0])
}

// TestForwardClientCert sends x-forwarded-client-cert headers, forged and
// malformed ones among them and spellings with '_', to a listener in each
// of Envoy's modes, from a caller the listener trusts to forward it, from
// one it does not, and from one without a certificate, and checks what
// the upstream receives.
func TestForwardClientCert(t *testing.T) {
	be := newBackend(t, nil)
	ca := newDevCA(t)
	trusted := "trusted_peers: [" + frontPeer + "]"
	cfg := callerConfig(t, ca, be.addr(),
		xfccListener("default", ""),
		xfccListener("sanitize", "{ mode: sanitize, "+trusted+" }"),
		xfccListener("forward", "{ mode: forward_only, "+trusted+" }"),
		xfccListener("append", "{ mode: append_forward, "+trusted+" }"),
		xfccListener("set", "{ mode: sanitize_set, "+trusted+" }"),
		xfccListener("always", "{ mode: always_forward_only, "+trusted+" }"),
	)
	tg := startGatewayWith(t, cfg)
	front := issueSVID(t, ca, "spiffe://"+frontPeer, nil)
	api := issueSVID(t, ca, "spiffe://cluster.local/ns/shop/sa/api", nil)
	clients := map[string]*devca.SVID{"front": front, "api": api, "anonymous": nil}

	forged := `By=spiffe://cluster.local/ns/edge/sa/front;URI=spiffe://cluster.local/ns/kube-system/sa/admin`
	// Each hostile value would let whatever follows it be read as part
	// of it, or splits into a second header; none is forwarded.
	hostile := []string{
		`URI=spiffe://cluster.local/ns/kube-system/sa/admin;Subject="open`,
		`URI="spiffe://cluster.local/ns/kube-system/sa/admin\`,
		`URI=a"b";DNS=c`,
		`URI=spiffe://x/y;;Hash=`,
	}
	for _, tc := range []struct {
		listener, client, incoming, want string
	}{
		{"default", "front", forged, ownElement(front)},
		{"default", "api", forged, ownElement(api)},
		{"default", "anonymous", forged, ""},
		{"sanitize", "front", forged, ""},
		{"sanitize", "api", "", ""},
		{"forward", "front", forged, forged},
		{"forward", "api", forged, ""},
		{"forward", "anonymous", forged, ""},
		{"append", "front", forged, forged + "," + ownElement(front)},
		{"append", "front", "", ownElement(front)},
		{"append", "api", forged, ownElement(api)},
		{"append", "anonymous", forged, ""},
		{"set", "front", forged, ownElement(front)},
		{"set", "anonymous", forged, ""},
		{"always", "front", forged, forged},
		{"always", "api", forged, ""},
		{"always", "anonymous", forged, ""},
		{"append", "front", hostile[0], ownElement(front)},
		{"append", "front", hostile[1], ownElement(front)},
		{"forward", "front", hostile[2], ""},
		{"always", "front", hostile[3], ""},
	} {
		t.Run(tc.listener+"/"+tc.client+"/"+tc.incoming, func(t *testing.T) {
			for _, proto := range httpVersions {
				c := protoClient(t, proto, meshClientTLS(clients[tc.client], ca))
				hdr := []string{"X_Forwarded_Client_Cert", forged}
				if tc.incoming != "" {
					hdr = append(hdr, xfcc.Header, tc.incoming)
				}
				resp, body := get(t, c, tg.url(tc.listener)+"/", hdr...)
				if resp.StatusCode != 200 {
					t.Fatalf("%s: status %d", proto, resp.StatusCode)
				}
				h := decodeSeen(t, body).Header
				if got := h.Get(xfcc.Header); got != tc.want || len(h[xfcc.Header]) > 1 {
					t.Errorf("%s: got %q, want %q", proto, h[xfcc.Header], tc.want)
				}
				for k := range h {
					if plugins.SameHeaderName(k, xfcc.Header) && k != xfcc.Header {
						t.Errorf("%s: the upstream got %s: %q", proto, k, h[k])
					}
				}
			}
		})
	}
}

// TestForwardClientCertTrustedProxy checks that a peer in trusted_proxies
// has its x-forwarded-client-cert forwarded only by a listener whose mode
// keeps it (always_forward_only, over plain HTTP), and that an untrusted
// peer's never is.
func TestForwardClientCertTrustedProxy(t *testing.T) {
	be := newBackend(t, nil)
	sent := `By=spiffe://cluster.local/ns/edge/sa/lb;URI=spiffe://cluster.local/ns/shop/sa/api`
	for _, tc := range []struct {
		name, trusted, listener, want string
	}{
		{"trusted, default sanitize", "[127.0.0.0/8]", "edge", ""},
		{"trusted, always_forward_only", "[127.0.0.0/8]", "relay", sent},
		{"untrusted, always_forward_only", "[192.0.2.0/24]", "relay", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
trusted_proxies: %s
listeners:
  - { name: edge, address: "127.0.0.1:0" }
  - { name: relay, address: "127.0.0.1:0", forward_client_cert: { mode: always_forward_only } }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, tc.trusted, be.addr()))
			_, body := get(t, http.DefaultClient, tg.url(tc.listener)+"/", xfcc.Header, sent)
			if got := decodeSeen(t, body).Header.Get(xfcc.Header); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCertElementHostileNames checks that a verified certificate whose
// subject and DNS names hold quotes, separators and line breaks yields an
// element that is one header line and reads back as one element with the
// caller's URI.
func TestCertElementHostileNames(t *testing.T) {
	ca := newDevCA(t)
	s := issueSVID(t, ca, "spiffe://cluster.local/ns/shop/sa/api", func(c *x509.Certificate) {
		c.Subject = pkix.Name{CommonName: "a\"b,URI=spiffe://cluster.local/ns/kube-system/sa/admin;\r\nX-Evil: 1\\"}
		c.DNSNames = []string{"ok.example", "x;URI=spiffe://evil/x", "bad\nname"}
	})
	got := certElement(s.Certificates[0])
	if strings.ContainsAny(got, "\r\n") {
		t.Fatalf("element holds a line break: %q", got)
	}
	els, err := xfcc.Parse(got)
	if err != nil || len(els) != 1 {
		t.Fatalf("%q reads %v, %v; want one element", got, els, err)
	}
	var uris, dns []string
	for _, p := range els[0] {
		switch p.Key {
		case "URI":
			uris = append(uris, p.Value)
		case "DNS":
			dns = append(dns, p.Value)
		}
	}
	if fmt.Sprint(uris) != "[spiffe://cluster.local/ns/shop/sa/api]" || fmt.Sprint(dns) != "[ok.example x;URI=spiffe://evil/x]" {
		t.Errorf("URI %q, DNS %q; want the caller's URI and the DNS names a header can carry", uris, dns)
	}
	if subj, _ := els[0].Get("Subject"); !strings.Contains(subj, `\0D\0AX-Evil`) {
		t.Errorf("Subject %q, want the line break written as RFC 4514 hex pairs", subj)
	}
}

// TestClientCertElementAllocs checks that the gateway's element costs no
// allocation per request once a connection made it: By is made once per
// snapshot and the element once per connection, so what is left is the
// header's value slice.
func TestClientCertElementAllocs(t *testing.T) {
	ca := newDevCA(t)
	tg := startGatewayWith(t, callerConfig(t, ca, "127.0.0.1:1", xfccListener("mesh", "")))
	svid := issueSVID(t, ca, "spiffe://cluster.local/ns/shop/sa/api", nil)
	for _, mode := range []string{"append_forward", "sanitize_set"} {
		t.Run(mode, func(t *testing.T) {
			ex := &exchange{snap: tg.snap.Load(), conn: &connInfo{
				listener: &listenerState{clientCert: clientCertPolicy{mode: mode, by: true}},
				peer:     peerIdentity(tls.ConnectionState{PeerCertificates: svid.Certificates}),
			}}
			h := http.Header{}
			if allocs := testing.AllocsPerRun(100, func() { ex.forwardClientCert(h, "") }); allocs > 1 {
				t.Errorf("got %v allocations per request, want at most 1 (the header's value)", allocs)
			}
			if got, want := h.Get(xfcc.Header), ownElement(svid); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
