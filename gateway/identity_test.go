package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// identityYAML is a routes file whose listener "mesh" presents the SVID in
// dir, csi-driver-spiffe's files, and sends every request to the upstream
// app, whose definition is the rest of a YAML flow mapping.
func identityYAML(dir, clientAuth, app string) string {
	return fmt.Sprintf(`
admin: { address: "off" }
identity:
  trust_domain: cluster.local
  svid: { cert: %q, key: %q }
  bundle: %q
listeners:
  - name: mesh
    address: "127.0.0.1:0"
    protocols: [http1, http2, http3]
    tls: { identity: true, client_auth: %s }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, %s } ]
`, filepath.Join(dir, devca.CertFile), filepath.Join(dir, devca.KeyFile), filepath.Join(dir, devca.BundleFile), clientAuth, app)
}

// TestIdentityRotationUnderLoad replaces the gateway's SVID and bundle ten
// times, and its CA half way through, by the kubelet's symlink swap of a
// Secret's files, while callers loop over mutual TLS to the gateway, on
// new handshakes and kept-alive connections, and the gateway talks mutual
// TLS to a backend that checks its SVID: no request fails, each new
// handshake after a reload shows the new SVID to callers and to the
// backend, a bad pair or an SVID outside the trust domain is refused with
// the running identity kept, and the expiry gauges follow.
func TestIdentityRotationUnderLoad(t *testing.T) {
	ca1, ca2 := newDevCA(t), newDevCA(t)
	be := newSPIFFEBackendTrusting(t, issueSVID(t, ca1, "spiffe://cluster.local/ns/shop/sa/backend", nil), []*devca.CA{ca1, ca2}, true, "")
	secret := &kubeDir{dir: t.TempDir()}
	secret.writeFiles(t, svidFiles(t, issueSVID(t, ca1, gatewayID, nil), ca1))
	reg, _ := plugins.NewRegistry(headers.Factory())
	path := filepath.Join(t.TempDir(), "routes.yaml")
	writeFile(t, path, identityYAML(secret.dir, "require",
		fmt.Sprintf("endpoints: [%q], tls: { mode: mutual, expect_principals: [cluster.local/ns/shop/sa/backend] }", be.addr)))
	cfg, err := routes.Load(path, reg)
	if err != nil {
		t.Fatal(err)
	}
	tg := startGatewayWith(t, cfg)
	addr := tg.Addr("mesh").String()
	loaded := make(chan error, 1)
	w, err := routes.NewWatcher(path, cfg, reg, func(next *routes.Config, err error) {
		if err == nil {
			err = tg.Reload(next)
		}
		loaded <- err
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Debounce = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)

	trust := meshClientTLS(issueSVID(t, ca1, "spiffe://cluster.local/ns/shop/sa/api", nil), ca1, ca2)
	served := func() string { // the serial of a new handshake's SVID
		c, err := tls.Dial("tcp", addr, trust)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	load := startRequestLoop("https://"+addr+"/rotate", trust)
	waitLoaded := func(wantErr string) {
		t.Helper()
		select {
		case err := <-loaded:
			if wantErr == "" && err != nil || wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)) {
				t.Fatalf("reload: got %v, want %q", err, wantErr)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the watcher did not react to the new files")
		}
	}
	var last *devca.SVID
	for i := 1; i <= 10; i++ {
		ca, bundle := ca1, []*devca.CA{ca1}
		if i > 5 { // the CA rotates: both roots are trusted, the new one signs
			ca, bundle = ca2, []*devca.CA{ca1, ca2}
		}
		last = issueSVID(t, ca, gatewayID, nil)
		secret.writeFiles(t, svidFiles(t, last, bundle...))
		waitLoaded("")
		want := last.Certificates[0].SerialNumber.String()
		if got := served(); got != want {
			t.Fatalf("rotation %d: a new handshake got serial %s, want the new SVID's %s", i, got, want)
		}
		waitUntil(t, fmt.Sprintf("rotation %d: the backend's new handshakes show the new SVID", i), func() bool {
			got := be.clientSerial.Load()
			return got != nil && *got == want
		})
	}
	load.end(t, "10 rotations")

	want := last.Certificates[0].SerialNumber.String()
	mismatched := svidFiles(t, issueSVID(t, ca2, gatewayID, nil), ca1, ca2)
	mismatched[devca.KeyFile] = svidFiles(t, issueSVID(t, ca2, gatewayID, nil), ca2)[devca.KeyFile]
	secret.writeFiles(t, mismatched)
	waitLoaded("svid: tls: private key does not match public key")
	if got := served(); got != want {
		t.Errorf("after a mismatched pair: serving serial %s, want the running %s", got, want)
	}
	outside, err := devca.New(mustTD(t, "example.org"), 0)
	if err != nil {
		t.Fatal(err)
	}
	secret.writeFiles(t, svidFiles(t, issueSVID(t, outside, "spiffe://example.org/ns/edge/sa/gateway", nil), ca1, ca2))
	waitLoaded("is outside the trust domain cluster.local")
	if got := served(); got != want {
		t.Errorf("after an SVID of another trust domain: serving serial %s, want the running %s", got, want)
	}

	left := identityGauge(t, tg, "portcullis_identity_svid_time_to_expiry_seconds", "spiffe_id", gatewayID)
	if until := time.Until(last.Certificates[0].NotAfter).Seconds(); len(left) != 1 || left[0] > until+1 || left[0] < until-60 {
		t.Errorf("svid expiry gauge: got %v, want one near %.0f", left, until)
	}
	if roots := identityGauge(t, tg, "portcullis_identity_bundle_time_to_expiry_seconds", "trust_domain", "cluster.local"); len(roots) != 2 {
		t.Errorf("bundle expiry gauges: got %v, want one per root of the rotated bundle", roots)
	}
}

// identityGauge returns the values of the gauge name whose label has value.
func identityGauge(t *testing.T, tg *testGateway, name, label, value string) []float64 {
	t.Helper()
	fams, err := tg.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					out = append(out, m.GetGauge().GetValue())
				}
			}
		}
	}
	return out
}

// requestLoop sends requests from four clients until it ends, two of them
// on a new handshake each time, and counts those that fail.
type requestLoop struct {
	failures, requests atomic.Int64
	first              atomic.Value
	stop               chan struct{}
	wg                 sync.WaitGroup
}

func startRequestLoop(url string, trust *tls.Config) *requestLoop {
	l := &requestLoop{stop: make(chan struct{})}
	for i := range 4 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tr := &http.Transport{TLSClientConfig: trust.Clone(), ForceAttemptHTTP2: true}
			defer tr.CloseIdleConnections()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				if i%2 == 0 { // every request on a new handshake
					tr.CloseIdleConnections()
				}
				l.requests.Add(1)
				if err := getOK(tr, url); err != nil {
					l.failures.Add(1)
					l.first.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	return l
}

func getOK(tr *http.Transport, url string) error {
	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// end stops the clients and fails the test if a request failed during
// what.
func (l *requestLoop) end(t *testing.T, what string) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	if n := l.failures.Load(); n > 0 {
		t.Errorf("%d of %d requests failed during %s; first: %v", n, l.requests.Load(), what, l.first.Load())
	}
	t.Logf("%d requests during %s", l.requests.Load(), what)
}
