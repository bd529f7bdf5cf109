package gateway

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/routes"
)

// TestCertificateRotationUnderLoad replaces the listener's certificate files
// while clients make new TLS connections without pause: no handshake fails,
// new handshakes see the new certificate, and a mismatched pair is refused
// with the old certificate kept.
func TestCertificateRotationUnderLoad(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	install := func(crt, key string) { // as a Secret update would: new files renamed into place
		for _, p := range [][2]string{{crt, certPath}, {key, keyPath}} {
			b, err := os.ReadFile(p[0])
			if err != nil {
				t.Fatal(err)
			}
			tmp := p[1] + ".tmp"
			os.WriteFile(tmp, b, 0o600)
			if err := os.Rename(tmp, p[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(ca.issue(t, "localhost", "127.0.0.1"))
	yaml := fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - { name: edge, address: "127.0.0.1:0", tls: { certificates: [ { cert: %q, key: %q } ] } }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: echo, match: { path_prefix: / }, upstream: echo } ] }
upstreams: [ { name: echo, builtin: echo } ]
`, certPath, keyPath)
	reg, _ := plugins.NewRegistry(headers.Factory())
	cfgPath := filepath.Join(dir, "routes.yaml")
	os.WriteFile(cfgPath, []byte(yaml), 0o600)
	cfg, err := routes.Load(cfgPath, reg)
	if err != nil {
		t.Fatal(err)
	}
	tg := startGatewayWith(t, cfg)
	addr := tg.Addr("edge").String()
	serial := func() string {
		c, err := tls.Dial("tcp", addr, ca.clientTLS("localhost"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}

	var failures, handshakes atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 100000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				c, err := tls.Dial("tcp", addr, ca.clientTLS("localhost"))
				handshakes.Add(1)
				if err != nil {
					failures.Add(1)
					continue
				}
				c.Close()
			}
		}()
	}
	var last string
	for i := 0; i < 10; i++ {
		crt, key := ca.issue(t, "localhost", "127.0.0.1")
		install(crt, key)
		next, err := routes.Load(cfgPath, reg)
		if err != nil {
			t.Fatal(err)
		}
		if err := tg.Reload(next); err != nil {
			t.Fatal(err)
		}
		last = serial()
	}
	close(stop)
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d handshakes failed during rotation", n, handshakes.Load())
	}

	// A certificate with another certificate's key is refused; the
	// certificate in force stays.
	crtA, _ := ca.issue(t, "localhost")
	_, keyB := ca.issue(t, "other")
	install(crtA, keyB)
	if _, err := routes.Load(cfgPath, reg); err == nil {
		t.Error("mismatched certificate and key loaded, want an error")
	}
	if got := serial(); got != last {
		t.Errorf("after a bad pair: serving serial %s, want the last good %s", got, last)
	}
	t.Logf("%d handshakes during 10 rotations", handshakes.Load())
}
