package gateway

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/routes"
)

// testGateway is a gateway serving a routes file on loopback, with its
// access log in JSON in a file the test reads.
type testGateway struct {
	*Gateway
	t       testing.TB
	logPath string
}

// startGateway serves yaml (a routes file; use 127.0.0.1:0 addresses and
// admin off or on 127.0.0.1:0) until the test ends. extra plugins join the
// headers plugin in the registry.
func startGateway(t testing.TB, yaml string, extra ...plugins.Factory) *testGateway {
	t.Helper()
	dir := t.TempDir()
	reg, err := plugins.NewRegistry(append([]plugins.Factory{headers.Factory()}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := routes.Parse(filepath.Join(dir, "routes.yaml"), []byte(yaml), reg)
	if err != nil {
		t.Fatalf("routes: %v", err)
	}
	return startGatewayWith(t, cfg)
}

// startGatewayWith serves cfg until the test ends, its access log in JSON.
func startGatewayWith(t testing.TB, cfg *routes.Config) *testGateway {
	t.Helper()
	return serveForTest(t, cfg, "json", zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel))
}

// serveForTest serves cfg until tb ends, writing the access log in format
// to a file in a temporary directory.
func serveForTest(tb testing.TB, cfg *routes.Config, format string, log zerolog.Logger) *testGateway {
	tb.Helper()
	return serveWithLog(tb, cfg, accesslog.Options{Format: format}, log)
}

// serveWithLog is serveForTest with the access log's options; its Path is
// set to a file in a temporary directory.
func serveWithLog(tb testing.TB, cfg *routes.Config, opts accesslog.Options, log zerolog.Logger) *testGateway {
	tb.Helper()
	return serveWith(tb, cfg, opts, Options{Log: log})
}

// serveWith is serveWithLog with the gateway's options; their AccessLog is
// the one opts describes.
func serveWith(tb testing.TB, cfg *routes.Config, opts accesslog.Options, gwOpts Options) *testGateway {
	tb.Helper()
	logPath := filepath.Join(tb.TempDir(), "access.log")
	opts.Path = logPath
	access, err := accesslog.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	gwOpts.AccessLog = access
	return &testGateway{Gateway: serveUntilEnd(tb, cfg, gwOpts), t: tb, logPath: logPath}
}

// serveUntilEnd starts a gateway on cfg with opts and shuts it down, which
// closes its access log, when tb ends.
func serveUntilEnd(tb testing.TB, cfg *routes.Config, opts Options) *Gateway {
	tb.Helper()
	gw, err := New(cfg, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := gw.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := gw.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
	})
	return gw
}

// url returns the base URL of the named listener.
func (tg *testGateway) url(listener string) string {
	scheme := "http"
	for _, l := range tg.Config().File.Listeners {
		if l.Name == listener && l.TLS != nil {
			scheme = "https"
		}
	}
	return scheme + "://" + tg.Addr(listener).String()
}

// logFor returns the access-log entry of the request with the given id.
func (tg *testGateway) logFor(id string) map[string]any {
	tg.t.Helper()
	end := deadline()
	for time.Now().Before(end) {
		for _, e := range readLog(tg.t, tg.logPath) {
			if e["request_id"] == id {
				return e
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	tg.t.Fatalf("no access-log line for request %s", id)
	return nil
}

func readLog(t testing.TB, path string) []map[string]any {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []map[string]any
	// A line without its newline is still being written: it is read
	// whole on a later call.
	for line := range strings.Lines(string(data)) {
		if !strings.HasSuffix(line, "\n") {
			break
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("access log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// testCA is a certificate authority made for one test, with files on disk.
type testCA struct {
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	pool   *x509.CertPool
	caFile string
	dir    string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, pool: x509.NewCertPool(), dir: t.TempDir()}
	ca.pool.AddCert(cert)
	ca.caFile = filepath.Join(ca.dir, "ca.pem")
	writePEM(t, ca.caFile, "CERTIFICATE", der)
	return ca
}

// issue makes a server certificate for names (DNS names or IPs) and returns
// the paths of its PEM certificate and key files.
func (ca *testCA) issue(t testing.TB, names ...string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(ca.dir, strings.NewReplacer("*", "star", ":", "_").Replace(names[0]))
	certFile, keyFile = base+".crt", base+".key"
	writePEM(t, certFile, "CERTIFICATE", der)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, keyFile, "PRIVATE KEY", kder)
	return certFile, keyFile
}

// clientTLS returns a client config that trusts the CA.
func (ca *testCA) clientTLS(serverName string) *tls.Config {
	return &tls.Config{RootCAs: ca.pool, ServerName: serverName}
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// get sends a GET with the given headers and returns the response with its
// body read.
func get(t *testing.T, c *http.Client, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&b); err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return resp, b.String()
}
