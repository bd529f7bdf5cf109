package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// whoamiFactory is a plugin that tells the upstream, in X-Test-Identity,
// the identity the gateway gave the request, and then scribbles over it,
// which must not reach the next request on the connection.
func whoamiFactory() plugins.Factory {
	return plugins.Factory{
		Name:   "whoami",
		Config: func() any { return &struct{}{} },
		Build:  func(any) (plugins.Handler, error) { return whoami{}, nil },
	}
}

type whoami struct{}

func (whoami) HandleRequest(_ context.Context, req *plugins.Request) error {
	v := "none"
	if id := req.Identity; id != nil {
		v = strings.Join([]string{id.SPIFFEID, id.Principal, id.TrustDomain, id.Namespace, id.ServiceAccount}, "|")
		id.SPIFFEID, id.Principal = "spiffe://cluster.local/ns/kube-system/sa/admin", "tampered"
	}
	req.Header().Set("X-Test-Identity", v)
	return nil
}

// callerConfig loads a routes file whose identity is an SVID of ca for
// the gateway, written into a new directory, with trust domain alias
// old.local; whose listeners are as given, one YAML flow mapping each; and
// whose every request goes to endpoint through the whoami plugin.
func callerConfig(t testing.TB, ca *devca.CA, endpoint string, listeners ...string) *routes.Config {
	t.Helper()
	return callerConfigWith(t, ca, endpoint, "[ { whoami: {} } ]", listeners...)
}

// callerConfigWith is callerConfig with the virtual host's plugins given.
func callerConfigWith(t testing.TB, ca *devca.CA, endpoint, plugs string, listeners ...string) *routes.Config {
	t.Helper()
	dir := t.TempDir()
	if _, err := devca.WriteSVID(dir, issueSVID(t, ca, gatewayID, nil), ca.BundlePEM()); err != nil {
		t.Fatal(err)
	}
	reg, _ := plugins.NewRegistry(headers.Factory(), whoamiFactory())
	cfg, err := routes.Parse(filepath.Join(dir, "routes.yaml"), []byte(fmt.Sprintf(`
admin: { address: "off" }
identity:
  trust_domain: cluster.local
  trust_domain_aliases: [old.local]
  svid: { cert: tls.crt, key: tls.key }
  bundle: ca.crt
listeners:
  - %s
virtual_hosts:
  - name: all
    hosts: ["*"]
    plugins: %s
    routes: [ { name: main, match: { path_prefix: / }, upstream: app } ]
upstreams: [ { name: app, endpoints: [%q] } ]
`, strings.Join(listeners, "\n  - "), plugs, endpoint)), reg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// meshListener is a listener of HTTP/1.1, HTTP/2 and HTTP/3 that presents
// the gateway's SVID and verifies callers as clientAuth says.
func meshListener(name, addr, clientAuth string) string {
	return fmt.Sprintf("{ name: %s, address: %q, protocols: [http1, http2, http3], tls: { identity: true, client_auth: %s } }", name, addr, clientAuth)
}

// callerGateway serves the listeners "require" and "optional" of
// callerConfig, its own log in logs.
func callerGateway(t *testing.T, ca *devca.CA, endpoint string, logs *lockedLog) *testGateway {
	t.Helper()
	cfg := callerConfig(t, ca, endpoint, meshListener("require", "127.0.0.1:0", "require"), meshListener("optional", "127.0.0.1:0", "optional"))
	return serveWith(t, cfg, accesslog.Options{Format: "json"}, Options{Log: zerolog.New(logs)})
}

// protoClient returns a client that speaks proto ("HTTP/1.1", "HTTP/2" or
// "HTTP/3") with cfg, closed when the test ends.
func protoClient(t *testing.T, proto string, cfg *tls.Config) *http.Client {
	t.Helper()
	cfg = cfg.Clone()
	var rt http.RoundTripper
	switch proto {
	case "HTTP/1.1":
		cfg.NextProtos = []string{"http/1.1"}
		tr := &http.Transport{TLSClientConfig: cfg}
		t.Cleanup(tr.CloseIdleConnections)
		rt = tr
	case "HTTP/2":
		tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
		t.Cleanup(tr.CloseIdleConnections)
		rt = tr
	case "HTTP/3":
		tr := &http3.Transport{TLSClientConfig: cfg}
		t.Cleanup(func() { tr.Close() })
		rt = tr
	}
	return &http.Client{Transport: rt, Timeout: 10 * time.Second}
}

var httpVersions = []string{"HTTP/1.1", "HTTP/2", "HTTP/3"}

// TestCallerAuthentication presents good and hostile client certificates
// over HTTP/1.1, HTTP/2 and HTTP/3 to listeners with client_auth require
// and optional. A verified caller reaches the plugins with its identity and
// the access log with its URI SAN and subject; each refusal fails the
// handshake, is counted under its reason and logged, and the upstream sees
// nothing of it; under optional a caller without a certificate passes with
// no identity, and one with a bad certificate is refused all the same.
func TestCallerAuthentication(t *testing.T) {
	be := newBackend(t, nil)
	ca := newDevCA(t)
	logs := &lockedLog{}
	tg := callerGateway(t, ca, be.addr(), logs)
	const apiID = "spiffe://cluster.local/ns/shop/sa/api"

	t.Run("verified callers", func(t *testing.T) {
		good := issueSVID(t, ca, apiID, func(c *x509.Certificate) { c.Subject.CommonName = "api.shop" })
		aliased := issueSVID(t, ca, apiID, func(c *x509.Certificate) { c.URIs = []*url.URL{mustURL(t, "spiffe://old.local/billing")} })
		tests := []struct {
			name, listener string
			svid           *devca.SVID
			want           string
		}{
			{"require", "require", good, apiID + "|cluster.local/ns/shop/sa/api|cluster.local|shop|api"},
			{"optional with a certificate", "optional", good, apiID + "|cluster.local/ns/shop/sa/api|cluster.local|shop|api"},
			{"optional without one", "optional", nil, "none"},
			{"a trust domain alias", "require", aliased, "spiffe://old.local/billing|old.local/billing|old.local||"},
		}
		for _, tt := range tests {
			for _, proto := range httpVersions {
				t.Run(tt.name+" "+proto, func(t *testing.T) {
					c := protoClient(t, proto, meshClientTLS(tt.svid, ca))
					for i := range 2 { // the second request on the same connection
						id := fmt.Sprintf("%s-%s-%d", strings.ReplaceAll(tt.name, " ", "-"), proto, i)
						resp, body := get(t, c, tg.url(tt.listener)+"/who", "X-Request-Id", id)
						if resp.StatusCode != 200 || resp.ProtoMajor != int(proto[5]-'0') {
							t.Fatalf("got %d over %s, want 200 over %s", resp.StatusCode, resp.Proto, proto)
						}
						if got := decodeSeen(t, body).Header.Get("X-Test-Identity"); got != tt.want {
							t.Errorf("request %d: the plugins saw %q, want %q", i, got, tt.want)
						}
						e := tg.logFor(id)
						wantSAN, wantSubject := any(nil), any(nil)
						if tt.svid != nil {
							wantSAN, wantSubject = tt.svid.Certificates[0].URIs[0].String(), tt.svid.Certificates[0].Subject.String()
						}
						if e["downstream_peer_uri_san"] != wantSAN || e["downstream_peer_subject"] != wantSubject {
							t.Errorf("access log: uri san %v, subject %v; want %v, %v", e["downstream_peer_uri_san"], e["downstream_peer_subject"], wantSAN, wantSubject)
						}
					}
				})
			}
		}
	})

	t.Run("metrics name the caller as a waypoint does", func(t *testing.T) {
		fams, err := tg.Metrics().Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{
			"mutual_tls " + apiID + " shop":                 false,
			"mutual_tls spiffe://old.local/billing unknown": false,
			"none unknown unknown":                          false,
		}
		for _, f := range fams {
			if f.GetName() != "istio_requests_total" {
				continue
			}
			for _, l := range seriesLabels(f) {
				if l["reporter"] != "waypoint" || l["destination_service_name"] != "app" || l["source_workload"] != "unknown" {
					t.Errorf("a series of the mTLS listeners: %v", l)
				}
				want[l["connection_security_policy"]+" "+l["source_principal"]+" "+l["source_workload_namespace"]] = true
			}
		}
		for k, seen := range want {
			if !seen {
				t.Errorf("no istio_requests_total series with connection_security_policy, source_principal, source_workload_namespace %s", k)
			}
		}
		if len(want) != 3 {
			t.Errorf("series: %v, want the three above", want)
		}
	})

	deep := ca
	for range identity.MaxIntermediates + 1 {
		next, err := deep.NewIntermediate(0)
		if err != nil {
			t.Fatal(err)
		}
		deep = next
	}
	now := time.Now()
	refusals := []struct {
		reason identity.Reason
		svid   *devca.SVID
	}{
		{identity.NoCertificate, nil},
		{identity.UnknownCA, issueSVID(t, newDevCA(t), apiID, nil)},
		{identity.Expired, issueSVID(t, ca, apiID, func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.Add(-2*time.Hour), now.Add(-time.Hour) })},
		{identity.NotYetValid, issueSVID(t, ca, apiID, func(c *x509.Certificate) { c.NotBefore = now.Add(time.Hour) })},
		{identity.NoClientAuth, issueSVID(t, ca, apiID, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} })},
		{identity.CAAsLeaf, issueSVID(t, ca, apiID, func(c *x509.Certificate) {
			c.IsCA, c.BasicConstraintsValid, c.KeyUsage = true, true, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature
		})},
		{identity.MissingID, issueSVID(t, ca, apiID, func(c *x509.Certificate) { c.URIs = nil })},
		{identity.MalformedID, issueSVID(t, ca, apiID, func(c *x509.Certificate) { c.URIs = []*url.URL{mustURL(t, "spiffe://cluster.local/ns/../sa/api")} })},
		{identity.ForeignTrustDomain, issueSVID(t, ca, apiID, func(c *x509.Certificate) { c.URIs = []*url.URL{mustURL(t, "spiffe://evil.example/ns/shop/sa/api")} })},
		{identity.MultipleURISANs, issueSVID(t, ca, apiID, func(c *x509.Certificate) {
			c.URIs = append(c.URIs, mustURL(t, "spiffe://cluster.local/ns/kube-system/sa/admin"))
		})},
		{identity.ChainTooLong, issueSVID(t, deep, apiID, nil)},
	}
	for _, listener := range []string{"require", "optional"} {
		for _, r := range refusals {
			if r.svid == nil && listener == "optional" {
				continue // passes, above
			}
			for _, proto := range httpVersions {
				t.Run(fmt.Sprintf("%s refuses %s over %s", listener, r.reason, proto), func(t *testing.T) {
					hits := be.hits.Load()
					before := metricValue(t, tg.Gateway, "portcullis_downstream_peer_refused_total", listener, string(r.reason))
					c := protoClient(t, proto, meshClientTLS(r.svid, ca))
					resp, err := c.Get(tg.url(listener) + "/refused")
					if err == nil {
						resp.Body.Close()
						t.Fatalf("got %d, want the handshake refused", resp.StatusCode)
					}
					waitUntil(t, "the refusal counted", func() bool {
						return metricValue(t, tg.Gateway, "portcullis_downstream_peer_refused_total", listener, string(r.reason)) > before
					})
					if n := be.hits.Load() - hits; n != 0 {
						t.Errorf("the upstream saw %d requests, want none", n)
					}
					if !refusalLogged(t, logs, listener, r.reason) {
						t.Errorf("the log has no refusal of %s on %s with the caller's address:\n%s", r.reason, listener, logs.String())
					}
				})
			}
		}
	}
}

// refusalLogged reports whether the log has a line that says a caller on
// listener was refused for reason, with the caller's address.
func refusalLogged(t *testing.T, logs *lockedLog, listener string, reason identity.Reason) bool {
	for _, line := range strings.Split(logs.String(), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		remote, _ := e["remote"].(string)
		if e["message"] == "caller's certificate refused" && e["level"] == "warn" && e["listener"] == listener &&
			e["reason"] == string(reason) && strings.HasPrefix(remote, "127.0.0.1:") && e["error"] != nil {
			return true
		}
	}
	return false
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestCallerSessionResumption resumes TLS sessions and checks that a
// resumed connection carries the identity of its first handshake, and that
// a session whose CA the bundle no longer holds is refused, not resumed
// into an identity.
func TestCallerSessionResumption(t *testing.T) {
	be := newBackend(t, nil)
	ca := newDevCA(t)
	logs := &lockedLog{}
	tg := callerGateway(t, ca, be.addr(), logs)
	const apiID = "spiffe://cluster.local/ns/shop/sa/api"
	svid := issueSVID(t, ca, apiID, nil)
	for _, proto := range httpVersions {
		t.Run(proto, func(t *testing.T) {
			cfg := meshClientTLS(svid, ca)
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
			for i := range 3 {
				c := protoClient(t, proto, cfg) // a new connection each time, one session cache
				resp, body := get(t, c, tg.url("require")+"/resume")
				closeClient(c)
				if got := decodeSeen(t, body).Header.Get("X-Test-Identity"); !strings.HasPrefix(got, apiID+"|") {
					t.Fatalf("connection %d: the plugins saw %q, want %s", i, got, apiID)
				}
				if i > 0 && !resp.TLS.DidResume {
					t.Errorf("connection %d did not resume its session", i)
				}
			}
		})
	}
	t.Run("not into an identity the bundle no longer trusts", func(t *testing.T) {
		cfg := meshClientTLS(svid, ca)
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
		c := protoClient(t, "HTTP/1.1", cfg)
		get(t, c, tg.url("require")+"/resume")
		c.CloseIdleConnections()
		// The gateway moves to another CA; the listener and its session
		// ticket keys stay.
		nextCfg := callerConfig(t, newDevCA(t), be.addr(),
			meshListener("require", tg.Addr("require").String(), "require"), meshListener("optional", tg.Addr("optional").String(), "optional"))
		if err := tg.Reload(nextCfg); err != nil {
			t.Fatal(err)
		}
		hits := be.hits.Load()
		cfg.VerifyConnection = nil // the client trusts the new gateway; the test is the gateway's side
		c = protoClient(t, "HTTP/1.1", cfg)
		if resp, err := c.Get(tg.url("require") + "/resume"); err == nil {
			resp.Body.Close()
			t.Fatalf("got %d (resumed: %v), want the handshake refused", resp.StatusCode, resp.TLS.DidResume)
		}
		if n := be.hits.Load() - hits; n != 0 {
			t.Errorf("the upstream saw %d requests, want none", n)
		}
		if metricValue(t, tg.Gateway, "portcullis_downstream_peer_refused_total", "require", string(identity.UnknownCA)) < 1 {
			t.Error("the refusal was not counted as unknown_ca")
		}
	})
}

// TestCallerIdentityNotForged checks that on a listener without
// client_auth nothing makes an identity: the gateway asks for no
// certificate, and a client that sends one anyway is not believed.
func TestCallerIdentityNotForged(t *testing.T) {
	be := newBackend(t, nil)
	ca := newDevCA(t)
	cfg := callerConfig(t, ca, be.addr(), meshListener("none", "127.0.0.1:0", "none"))
	tg := startGatewayWith(t, cfg)
	for _, proto := range httpVersions {
		t.Run(proto, func(t *testing.T) {
			c := protoClient(t, proto, meshClientTLS(issueSVID(t, ca, "spiffe://cluster.local/ns/shop/sa/api", nil), ca))
			resp, body := get(t, c, tg.url("none")+"/", "X-Test-Identity", "spiffe://cluster.local/ns/kube-system/sa/admin")
			if got := decodeSeen(t, body).Header.Get("X-Test-Identity"); resp.StatusCode != 200 || got != "none" {
				t.Errorf("got %d and %q, want 200 and no identity", resp.StatusCode, got)
			}
		})
	}
}

// TestCallerSessionAcrossRequire checks that a session resumed without a
// certificate does not pass a listener that came to require one: the
// caller, asked again, presents its certificate in a full handshake and
// is served with its identity.
func TestCallerSessionAcrossRequire(t *testing.T) {
	be := newBackend(t, nil)
	ca := newDevCA(t)
	load := func(addr, mode string) *routes.Config {
		return callerConfig(t, ca, be.addr(), meshListener("mesh", addr, mode))
	}
	tg := startGatewayWith(t, load("127.0.0.1:0", "optional"))
	addr := tg.Addr("mesh").String()
	const apiID = "spiffe://cluster.local/ns/shop/sa/api"
	svid := issueSVID(t, ca, apiID, nil).TLSCertificate()
	for i, proto := range []string{"HTTP/1.1", "HTTP/3"} {
		t.Run(proto, func(t *testing.T) {
			if i > 0 {
				tg.Reload(load(addr, "optional"))
			}
			cfg := meshClientTLS(nil, ca)
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
			var present atomic.Bool // the caller has no certificate at first
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				if present.Load() {
					return &svid, nil
				}
				return &tls.Certificate{}, nil
			}
			c := protoClient(t, proto, cfg)
			if _, body := get(t, c, tg.url("mesh")+"/"); decodeSeen(t, body).Header.Get("X-Test-Identity") != "none" {
				t.Fatalf("the first request: got %q, want no identity", body)
			}
			closeClient(c)
			if err := tg.Reload(load(addr, "require")); err != nil {
				t.Fatal(err)
			}
			present.Store(true)
			c = protoClient(t, proto, cfg)
			resp, body := get(t, c, tg.url("mesh")+"/")
			if got := decodeSeen(t, body).Header.Get("X-Test-Identity"); !strings.HasPrefix(got, apiID+"|") || resp.TLS.DidResume {
				t.Errorf("after require: got %q (resumed: %v), want %s in a full handshake", got, resp.TLS.DidResume, apiID)
			}
			closeClient(c)
			c = protoClient(t, proto, cfg)
			if resp, _ := get(t, c, tg.url("mesh")+"/"); !resp.TLS.DidResume {
				t.Error("the session with a certificate did not resume")
			}
		})
	}
}

// closeClient closes a test client's connections, HTTP/3's included.
func closeClient(c *http.Client) {
	if tr, ok := c.Transport.(*http3.Transport); ok {
		tr.Close()
	}
	c.CloseIdleConnections()
}
