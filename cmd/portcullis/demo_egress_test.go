package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/egress"
	"github.com/portcullis-gw/portcullis/gateway"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

// TestDemoEgressAsTheREADMEShows runs the CONNECTs the README shows through
// the demo's egress listener. The allowed one reaches a loopback HTTPS
// server standing for example.com (the dialer the test gives the gateway
// sends example.com:443 there, and nothing anywhere else); the denied one is
// refused by the demo's rules as it would be for real.
func TestDemoEgressAsTheREADMEShows(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)<!-- egress-demo -->\n```console\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README has no egress-demo block")
	}
	cmds := regexp.MustCompile(`(?m)^\$ curl .*-x http://127\.0\.0\.1:3128 https://([^/ ]+)/\n(.*)$`).FindAllSubmatch(block[1], -1)
	if len(cmds) != 2 {
		t.Fatalf("got %d curl commands through the proxy in the README, want 2", len(cmds))
	}
	cert, pool := selfSignedFor(t, "example.com")
	site := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	site.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	site.StartTLS()
	t.Cleanup(site.Close)
	siteAddr := netip.MustParseAddrPort(strings.TrimPrefix(site.URL, "https://"))
	dials := 0
	dial := func(ctx context.Context, host string, port uint16, _ []netip.Prefix) (net.Conn, netip.AddrPort, error) {
		dials++
		if host != "example.com" || port != 443 {
			return nil, netip.AddrPort{}, fmt.Errorf("the test dials only example.com:443, not %s:%d", host, port)
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", siteAddr.String())
		return c, siteAddr, err
	}
	reg, err := registry(waf.New(waf.Options{}), authz.New(nil))
	if err != nil {
		t.Fatal(err)
	}
	demo := strings.ReplaceAll(string(renderDemo(demoOnFreePorts(), "")), "path: stdout", "path: off")
	cfg, err := routes.Parse("demo.yaml", []byte(demo), reg)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(cfg, gateway.Options{EgressDial: dial})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		gw.Shutdown(ctx)
	})
	for _, m := range cmds {
		host, shown := string(m[1]), string(m[2])
		c, err := net.Dial("tcp", gw.Addr("egress").String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n", host, host)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			if want := fmt.Sprintf("response %d", resp.StatusCode); !strings.Contains(shown, want) {
				t.Errorf("%s: got %d, the README shows %q", host, resp.StatusCode, shown)
			}
			continue
		}
		tc := tls.Client(&bufConn{Conn: c, r: br}, &tls.Config{ServerName: host, RootCAs: pool})
		fmt.Fprintf(tc, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host)
		got, err := http.ReadResponse(bufio.NewReader(tc), nil)
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		io.Copy(io.Discard, got.Body)
		if shown != fmt.Sprint(got.StatusCode) {
			t.Errorf("%s: got %d through the tunnel, the README shows %q", host, got.StatusCode, shown)
		}
	}
	if dials != 1 {
		t.Errorf("got %d dials, want 1: the denied CONNECT dials nothing", dials)
	}
	var _ egress.DialFunc = dial
}

// bufConn reads through r, which holds what a bufio.Reader took from the
// connection already.
type bufConn struct {
	net.Conn
	r io.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// selfSignedFor makes a certificate for name and a pool that trusts it.
func selfSignedFor(t *testing.T, name string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
