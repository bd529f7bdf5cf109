package gateway

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// identityProxy serves a forward_proxy listener that verifies callers'
// SVIDs (client_auth optional), with the gateway's own SVID from ca, and
// the egress block given.
func identityProxy(t *testing.T, ca *devca.CA, egressYAML string, d *loopDialer) *testGateway {
	t.Helper()
	dir := t.TempDir()
	if _, err := devca.WriteSVID(dir, issueSVID(t, ca, gatewayID, nil), ca.BundlePEM()); err != nil {
		t.Fatal(err)
	}
	yaml := `
identity:
  trust_domain: cluster.local
  svid: { cert: tls.crt, key: tls.key }
  bundle: ca.crt
listeners:
  - { name: egress, address: "127.0.0.1:0", kind: forward_proxy, tls: { identity: true, client_auth: optional } }
` + egressYAML
	path := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return serveWithDial(t, loadProxyConfigAt(t, path, yaml), d)
}

func TestEgressCallersByIdentity(t *testing.T) {
	ca := newDevCA(t)
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("a.example.com:7000", echo.addr())
	tg := identityProxy(t, ca, `
egress:
  rules:
    - { name: payments, from: { namespaces: [payments] }, to: { hosts: [a.example.com], ports: [7000] } }
    - { name: one, from: { principals: [cluster.local/ns/shop/sa/api] }, to: { hosts: [a.example.com], ports: [7000] } }
`, d)
	for _, tt := range []struct {
		name, id string
		status   int
		rule     string
	}{
		{"namespace", "spiffe://cluster.local/ns/payments/sa/billing", 200, "payments"},
		{"principal", "spiffe://cluster.local/ns/shop/sa/api", 200, "one"},
		{"other principal", "spiffe://cluster.local/ns/shop/sa/web", 403, "default"},
		{"no certificate", "", 403, "default"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var cfg *tls.Config
			if tt.id != "" {
				cfg = meshClientTLS(issueSVID(t, ca, tt.id, nil), ca)
			} else {
				cfg = meshClientTLS(nil, ca)
			}
			c, err := tls.Dial("tcp", tg.Addr("egress").String(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			reqID := "identity-" + strings.ReplaceAll(tt.name, " ", "-")
			fmt.Fprintf(c, "CONNECT a.example.com:7000 HTTP/1.1\r\nHost: a.example.com:7000\r\nX-Request-Id: %s\r\n\r\n", reqID)
			resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("got %d, want %d", resp.StatusCode, tt.status)
			}
			e := tg.logFor(reqID)
			wantCaller := strings.TrimPrefix(tt.id, "spiffe://")
			if tt.id == "" {
				wantCaller = "127.0.0.1"
			}
			if egressField(e, "rule") != tt.rule || egressField(e, "caller") != wantCaller {
				t.Errorf("got rule %v caller %v, want %s %s", egressField(e, "rule"), egressField(e, "caller"), tt.rule, wantCaller)
			}
		})
	}
}

// TestEgressMutualTLSOrigination has the gateway present its SVID to a
// destination that requires a client certificate, verifying the
// destination's own certificate by the rule's CA bundle.
func TestEgressMutualTLSOrigination(t *testing.T) {
	ca := newDevCA(t)
	web := newTestCA(t)
	crt, key := web.issue(t, "mtls.example.com")
	cert, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	clients := x509.NewCertPool()
	clients.AddCert(ca.Root())
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.TLS.PeerCertificates[0].URIs[0].String())
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	d := newLoopDialer()
	d.route("mtls.example.com:443", strings.TrimPrefix(srv.URL, "https://"))
	tg := identityProxy(t, ca, fmt.Sprintf(`
egress:
  rules:
    - name: mtls
      to: { hosts: [mtls.example.com], ports: [80] }
      originate_tls: { port: 443, ca_file: %q, identity: true }
`, web.caFile), d)
	c, err := tls.Dial("tcp", tg.Addr("egress").String(), meshClientTLS(nil, ca))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET http://mtls.example.com/ HTTP/1.1\r\nHost: mtls.example.com\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != gatewayID {
		t.Errorf("got %d %q, want 200 and the destination seeing %s", resp.StatusCode, body, gatewayID)
	}
}
