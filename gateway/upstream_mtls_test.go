package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"

	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// spiffeBackend is an upstream that serves TLS with svid and requires the
// client's X.509-SVID, verified against trust. It answers with the
// client's SPIFFE ID and certificate serial, and the protocol it saw.
// requireALPN, when set, refuses a handshake that does not offer it.
type spiffeBackend struct {
	addr string
	hits atomic.Int64
	// clientSerial is the serial of the client certificate of the last
	// handshake.
	clientSerial atomic.Pointer[string]
}

func newSPIFFEBackend(t *testing.T, svid *devca.SVID, trust *devca.CA, h2 bool, requireALPN string) *spiffeBackend {
	t.Helper()
	return newSPIFFEBackendTrusting(t, svid, []*devca.CA{trust}, h2, requireALPN)
}

// newSPIFFEBackendTrusting is newSPIFFEBackend trusting the roots of
// several CAs.
func newSPIFFEBackendTrusting(t *testing.T, svid *devca.SVID, trust []*devca.CA, h2 bool, requireALPN string) *spiffeBackend {
	t.Helper()
	b := &spiffeBackend{}
	var roots []*x509.Certificate
	for _, ca := range trust {
		roots = append(roots, ca.Root())
	}
	v := identity.NewVerifier(x509bundle.NewSet(x509bundle.FromX509Authorities(clusterLocal, roots)))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		leaf := r.TLS.PeerCertificates[0]
		w.Header().Set("X-Peer", leaf.URIs[0].String())
		w.Header().Set("X-Peer-Serial", leaf.SerialNumber.String())
		w.Header().Set("X-Remote", r.RemoteAddr)
		fmt.Fprintf(w, "%s", r.Proto)
	}))
	cfg := &tls.Config{
		Certificates: []tls.Certificate{svid.TLSCertificate()},
		ClientAuth:   tls.RequireAnyClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := v.Verify(cs.PeerCertificates, x509.ExtKeyUsageClientAuth, time.Now())
			if err == nil {
				serial := cs.PeerCertificates[0].SerialNumber.String()
				b.clientSerial.Store(&serial)
			}
			return err
		},
	}
	if requireALPN != "" {
		cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			if !slices.Contains(hello.SupportedProtos, requireALPN) {
				return nil, fmt.Errorf("ALPN %v lacks %s", hello.SupportedProtos, requireALPN)
			}
			return nil, nil
		}
	}
	srv.TLS = cfg
	srv.EnableHTTP2 = h2
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	b.addr = strings.TrimPrefix(srv.URL, "https://")
	return b
}

// mutualGateway serves a plain listener "web" whose route /<name>/ goes to
// the upstream of that name; each upstream is the YAML flow mapping given,
// with %s for the listener-independent rest. The gateway's SVID is
// gatewayID from ca.
func mutualGateway(t *testing.T, ca *devca.CA, svid *devca.SVID, upstreams map[string]string) (*testGateway, func(*devca.SVID) *routes.Config) {
	t.Helper()
	dir := t.TempDir()
	load := func(s *devca.SVID) *routes.Config {
		if _, err := devca.WriteSVID(dir, s, ca.BundlePEM()); err != nil {
			t.Fatal(err)
		}
		var rs, us []string
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range upstreams {
				if !yield(k) {
					return
				}
			}
		}) {
			rs = append(rs, fmt.Sprintf("{ name: %s, match: { path_prefix: /%s/ }, upstream: %s }", name, name, name))
			us = append(us, fmt.Sprintf("{ name: %s, %s }", name, upstreams[name]))
		}
		return parseAt(t, filepath.Join(dir, "routes.yaml"), fmt.Sprintf(`
admin: { address: "off" }
identity: { trust_domain_aliases: [old.local], svid: { cert: tls.crt, key: tls.key }, bundle: ca.crt }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts: [ { name: all, hosts: ["*"], routes: [ %s ] } ]
upstreams: [ %s ]
`, strings.Join(rs, ", "), strings.Join(us, ", ")))
	}
	return startGatewayWith(t, load(svid)), load
}

// TestUpstreamMutualTLS sends requests to upstreams in tls mode mutual: the
// gateway presents its SVID and takes only an upstream whose SVID verifies
// and whose ID is expected; any other is a connection failure, 503 UF with
// the TLS failure reason, and the upstream serves nothing. Istio's ALPN is
// offered when asked for, HTTP/2 works over it, and a rotated SVID is what
// the next connection presents, while an unchanged identity keeps the
// pool's connections across a reload.
func TestUpstreamMutualTLS(t *testing.T) {
	ca := newDevCA(t)
	const backendID = "spiffe://cluster.local/ns/shop/sa/backend"
	good := newSPIFFEBackend(t, issueSVID(t, ca, backendID, nil), ca, false, "")
	h2 := newSPIFFEBackend(t, issueSVID(t, ca, backendID, nil), ca, true, "")
	aliased := newSPIFFEBackend(t, issueSVID(t, ca, backendID, func(c *x509.Certificate) { c.URIs[0] = mustURL(t, "spiffe://old.local/ns/shop/sa/backend") }), ca, false, "")
	noID := newSPIFFEBackend(t, issueSVID(t, ca, backendID, func(c *x509.Certificate) { c.URIs = nil; c.DNSNames = []string{"backend"} }), ca, false, "")
	clientOnly := newSPIFFEBackend(t, issueSVID(t, ca, backendID, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }), ca, false, "")
	stranger := newSPIFFEBackend(t, issueSVID(t, newDevCA(t), backendID, nil), ca, false, "")
	istio := newSPIFFEBackend(t, issueSVID(t, ca, backendID, nil), ca, false, "istio")
	istioH2 := newSPIFFEBackend(t, issueSVID(t, ca, backendID, nil), ca, true, "istio-h2")
	mutual := func(b *spiffeBackend, more string) string {
		return fmt.Sprintf("endpoints: [%q], tls: { mode: mutual%s }", b.addr, more)
	}
	svid := issueSVID(t, ca, gatewayID, nil)
	tg, load := mutualGateway(t, ca, svid, map[string]string{
		"expected":    mutual(good, `, expect_principals: ["cluster.local/ns/shop/sa/backend"]`),
		"domain":      mutual(good, ""),
		"alias":       mutual(aliased, ""),
		"h2":          mutual(h2, "") + ", protocol: http2",
		"istio":       mutual(istio, ", istio_alpn: true"),
		"istioh2":     mutual(istioH2, ", istio_alpn: true") + ", protocol: http2",
		"unexpected":  mutual(good, `, expect_principals: ["cluster.local/ns/shop/sa/other"]`),
		"aliasexpect": mutual(aliased, `, expect_principals: ["cluster.local/ns/shop/sa/backend"]`),
		"noid":        mutual(noID, ""),
		"clientonly":  mutual(clientOnly, ""),
		"stranger":    mutual(stranger, ""),
		"noistio":     mutual(istio, ""),
	})
	const verifyFailed = "TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end"
	tests := []struct {
		path    string
		backend *spiffeBackend
		status  int
		proto   string // what the upstream saw
		reason  string // %UPSTREAM_TRANSPORT_FAILURE_REASON%
	}{
		{"/expected/", good, 200, "HTTP/1.1", ""},
		{"/domain/", good, 200, "HTTP/1.1", ""},
		{"/alias/", aliased, 200, "HTTP/1.1", ""},
		{"/h2/", h2, 200, "HTTP/2.0", ""},
		{"/istio/", istio, 200, "HTTP/1.1", ""},
		{"/istioh2/", istioH2, 200, "HTTP/2.0", ""},
		{"/unexpected/", good, 503, "", verifyFailed},
		{"/aliasexpect/", aliased, 503, "", verifyFailed},
		{"/noid/", noID, 503, "", verifyFailed},
		{"/clientonly/", clientOnly, 503, "", verifyFailed},
		{"/stranger/", stranger, 503, "", verifyFailed},
		{"/noistio/", istio, 503, "", "TLS_error:|268436536:SSL routines:OPENSSL_internal:TLSV1_ALERT_INTERNAL_ERROR:TLS_error_end"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			hits := tt.backend.hits.Load()
			id := "mtls" + strings.ReplaceAll(tt.path, "/", "-")
			resp, body := get(t, http.DefaultClient, tg.url("web")+tt.path, "X-Request-Id", id)
			e := tg.logFor(id)
			if resp.StatusCode != tt.status {
				t.Fatalf("got %d %q, want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status == 200 {
				if body != tt.proto || resp.Header.Get("X-Peer") != gatewayID {
					t.Errorf("the upstream saw %s from %q, want %s from %s", body, resp.Header.Get("X-Peer"), tt.proto, gatewayID)
				}
				wantID := backendID
				if tt.backend == aliased {
					wantID = "spiffe://old.local/ns/shop/sa/backend"
				}
				if e["upstream_peer_uri_san"] != wantID || e["upstream_tls_version"] != "TLSv1.3" {
					t.Errorf("access log: upstream_peer_uri_san %v, upstream_tls_version %v; want %s, TLSv1.3", e["upstream_peer_uri_san"], e["upstream_tls_version"], wantID)
				}
				if !hasSeries(t, tg, fmt.Sprintf(`destination_service_name="%s",destination_principal="%s",source_principal="%s"`, strings.Trim(tt.path, "/"), wantID, gatewayID)) {
					t.Errorf("no istio_requests_total series for %s with destination_principal %s and source_principal %s", tt.path, wantID, gatewayID)
				}
				return
			}
			if n := tt.backend.hits.Load() - hits; n != 0 {
				t.Errorf("the upstream served %d requests, want none", n)
			}
			if e["response_flags"] != "UF" || e["upstream_transport_failure_reason"] != strings.ReplaceAll(tt.reason, " ", "_") {
				t.Errorf("access log: flags %v, transport failure reason %v; want UF, %s", e["response_flags"], e["upstream_transport_failure_reason"], tt.reason)
			}
		})
	}

	t.Run("a rotated SVID on the next connection, an unchanged one keeps the pool", func(t *testing.T) {
		first, _ := get(t, http.DefaultClient, tg.url("web")+"/domain/")
		if err := tg.Reload(load(svid)); err != nil {
			t.Fatal(err)
		}
		same, _ := get(t, http.DefaultClient, tg.url("web")+"/domain/")
		if got, want := same.Header.Get("X-Remote"), first.Header.Get("X-Remote"); got != want {
			t.Errorf("after a reload that kept the identity: connection from %s, want the pool's %s", got, want)
		}
		next := issueSVID(t, ca, gatewayID, nil)
		if err := tg.Reload(load(next)); err != nil {
			t.Fatal(err)
		}
		resp, _ := get(t, http.DefaultClient, tg.url("web")+"/domain/")
		if got, want := resp.Header.Get("X-Peer-Serial"), next.Certificates[0].SerialNumber.String(); got != want {
			t.Errorf("after the rotation the upstream saw serial %s, want the new SVID's %s", got, want)
		}
	})
}

// parseAt loads yaml, which turns no plugin on, as a routes file at path.
func parseAt(t *testing.T, path, yaml string) *routes.Config {
	t.Helper()
	cfg, err := routes.Parse(path, []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// hasSeries reports whether istio_requests_total has a series that the
// PromQL matchers select.
func hasSeries(t *testing.T, tg *testGateway, matchers string) bool {
	t.Helper()
	fams, err := tg.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "istio_requests_total" {
			continue
		}
		for _, l := range seriesLabels(f) {
			if matches(t, l, matchers) {
				return true
			}
		}
	}
	return false
}
