package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// wlapiYAML is a routes file whose identity comes from the Workload API at
// socket: the listener "mesh" presents it and requires callers', and the
// upstream is reached over mutual TLS.
func wlapiYAML(socket, upstream string) string {
	return fmt.Sprintf(`
admin: { address: "off" }
identity: { workload_api: { socket: %q } }
listeners: [ { name: mesh, address: "127.0.0.1:0", tls: { identity: true, client_auth: require } } ]
virtual_hosts: [ { name: all, hosts: ["*"], routes: [ { name: up, match: { path_prefix: / }, upstream: up } ] } ]
upstreams: [ { name: up, endpoints: [%q], tls: { mode: mutual } } ]
`, socket, upstream)
}

// wlapiOptions are the gateway's options for these tests: short waits,
// and its own log in logs.
func wlapiOptions(logs *lockedLog) Options {
	return Options{Log: zerolog.New(logs), WorkloadAPIWait: 5 * time.Second, WorkloadAPIRetry: 50 * time.Millisecond}
}

// meshProbe calls the listener "mesh" as caller, trusting the roots of
// cas.
type meshProbe struct {
	t      *testing.T
	addr   string
	caller *devca.SVID
	cas    []*devca.CA
}

// served returns the serial of the SVID a new handshake is shown, or the
// handshake's error.
func (p meshProbe) served() (string, error) {
	c, err := tls.Dial("tcp", p.addr, meshClientTLS(p.caller, p.cas...))
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String(), nil
}

// admitted reports whether the listener takes the caller's certificate,
// by a request: TLS 1.3 tells the client of a refusal only after its
// handshake.
func (p meshProbe) admitted() error {
	tr := &http.Transport{TLSClientConfig: meshClientTLS(p.caller, p.cas...)}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + p.addr + "/")
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// upstreamSaw returns the serial of the client certificate the upstream
// saw the gateway present, over a new connection to the gateway.
func (p meshProbe) upstreamSaw() string {
	p.t.Helper()
	tr := &http.Transport{TLSClientConfig: meshClientTLS(p.caller, p.cas...)}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + p.addr + "/")
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		p.t.Fatalf("got status %d (%s), want 200", resp.StatusCode, resp.Header.Get("x-envoy-response-flags"))
	}
	return resp.Header.Get("X-Peer-Serial")
}

// devCAOf returns a development CA of the trust domain td.
func devCAOf(t *testing.T, td string) *devca.CA {
	t.Helper()
	ca, err := devca.New(mustTD(t, td), 0)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func serial(s *devca.SVID) string { return s.Certificates[0].SerialNumber.String() }

// TestWorkloadAPIIdentity serves the SVID a Workload API server sends, and
// follows what it pushes: a new SVID is what new handshakes show and what
// the upstream sees after the pool connects anew, within moments; a new
// bundle lets in callers of the new CA; a push of an SVID outside the
// trust domain, or whose key is another certificate's, is refused with a
// log line while the running identity stays; and a server that goes away
// and comes back is reached again, the identity served throughout.
func TestWorkloadAPIIdentity(t *testing.T) {
	ca1, ca2, partner := newDevCA(t), newDevCA(t), devCAOf(t, "partner.example")
	const backendID = "spiffe://cluster.local/ns/shop/sa/backend"
	be := newSPIFFEBackend(t, issueSVID(t, ca1, backendID, nil), ca1, false, "")
	api := newWLAPIServer(t)
	svid := issueSVID(t, ca1, gatewayID, nil)
	api.push(x509Context(t, svid, []*devca.CA{ca1}, partner))

	logs := &lockedLog{}
	tg := serveWith(t, parseT(t, wlapiYAML(api.addr(), be.addr)), accesslog.Options{Format: "json"}, wlapiOptions(logs))
	p := meshProbe{t: t, addr: tg.Addr("mesh").String(), caller: issueSVID(t, ca1, "spiffe://cluster.local/ns/shop/sa/api", nil), cas: []*devca.CA{ca1, ca2}}
	if got, err := p.served(); err != nil || got != serial(svid) {
		t.Fatalf("at start: served %s (%v), want the Workload API's SVID %s", got, err, serial(svid))
	}
	if got := p.upstreamSaw(); got != serial(svid) {
		t.Fatalf("at start: the upstream saw %s, want %s", got, serial(svid))
	}
	if got := len(tg.Config().Identity.Bundles()); got != 2 {
		t.Errorf("got %d bundles, want cluster.local's and the federated partner.example's", got)
	}

	// A rotation: the new SVID, with another lifetime, so that the expiry
	// gauge shows which one it reads.
	rotated := issueSVID(t, ca1, gatewayID, func(c *x509.Certificate) { c.NotAfter = c.NotBefore.Add(3 * time.Hour) })
	pushed := time.Now()
	api.push(x509Context(t, rotated, []*devca.CA{ca1}, partner))
	waitUntil(t, "a new handshake to show the rotated SVID", func() bool {
		got, _ := p.served()
		return got == serial(rotated)
	})
	t.Logf("from the push to a handshake with the new SVID: %v", time.Since(pushed))
	if got := p.upstreamSaw(); got != serial(rotated) {
		t.Errorf("after the rotation: the upstream saw %s, want %s", got, serial(rotated))
	}
	left := identityGauge(t, tg, "portcullis_identity_svid_time_to_expiry_seconds", "spiffe_id", gatewayID)
	if until := time.Until(rotated.Certificates[0].NotAfter).Seconds(); len(left) != 1 || left[0] > until+1 || left[0] < until-60 {
		t.Errorf("svid expiry gauge: got %v, want one near %.0f", left, until)
	}

	// A bundle change: ca2's callers are let in once it is pushed.
	stranger := p
	stranger.caller = issueSVID(t, ca2, "spiffe://cluster.local/ns/shop/sa/new", nil)
	if err := stranger.admitted(); err == nil {
		t.Fatal("a caller of ca2 was let in before the bundle holds ca2")
	}
	api.push(x509Context(t, rotated, []*devca.CA{ca1, ca2}, partner))
	waitUntil(t, "a caller of ca2 to be let in after the bundle change", func() bool {
		return stranger.admitted() == nil
	})

	// Refused pushes: the running identity stays, with a log line, and
	// the stream goes on.
	outside := devCAOf(t, "example.org")
	api.push(x509Context(t, issueSVID(t, outside, "spiffe://example.org/ns/edge/sa/gateway", nil), []*devca.CA{outside}))
	waitUntil(t, "a log line refusing the foreign SVID", func() bool {
		return strings.Contains(logs.String(), "is outside the trust domain cluster.local")
	})
	mismatched := x509Context(t, issueSVID(t, ca1, gatewayID, nil), []*devca.CA{ca1, ca2})
	mismatched.Svids[0].X509SvidKey = x509Context(t, issueSVID(t, ca1, gatewayID, nil), nil).Svids[0].X509SvidKey
	api.push(mismatched)
	waitUntil(t, "a log line refusing the SVID with another's key", func() bool {
		return strings.Contains(logs.String(), "sent an SVID that was refused")
	})
	if got, err := p.served(); err != nil || got != serial(rotated) {
		t.Errorf("after refused pushes: served %s (%v), want the running %s", got, err, serial(rotated))
	}
	if got := p.upstreamSaw(); got != serial(rotated) {
		t.Errorf("after refused pushes: the upstream saw %s, want %s", got, serial(rotated))
	}

	// The agent goes away: the identity is served on; it comes back with
	// a new SVID, which the gateway takes once it has reconnected.
	api.stop()
	waitUntil(t, "a log line of the broken stream", func() bool {
		return strings.Contains(logs.String(), "workload API unreachable or its stream broke")
	})
	if got, err := p.served(); err != nil || got != serial(rotated) {
		t.Errorf("with the agent gone: served %s (%v), want the running %s", got, err, serial(rotated))
	}
	back := issueSVID(t, ca1, gatewayID, nil)
	api.push(x509Context(t, back, []*devca.CA{ca1}))
	restarted := time.Now()
	api.start(t)
	waitUntil(t, "the SVID of the agent back from its restart", func() bool {
		got, _ := p.served()
		return got == serial(back)
	})
	t.Logf("from the agent's restart to a handshake with its SVID: %v", time.Since(restarted))
	if got := p.upstreamSaw(); got != serial(back) {
		t.Errorf("after the agent's restart: the upstream saw %s, want %s", got, serial(back))
	}
}

// TestWorkloadAPIRotationUnderLoad pushes six rotations, one of them a
// bundle change, while callers loop over new handshakes and kept-alive
// connections to an upstream over mutual TLS: no request fails, and each
// new handshake after a push shows the new SVID.
func TestWorkloadAPIRotationUnderLoad(t *testing.T) {
	ca1, ca2 := newDevCA(t), newDevCA(t)
	be := newSPIFFEBackend(t, issueSVID(t, ca1, "spiffe://cluster.local/ns/shop/sa/backend", nil), ca1, false, "")
	api := newWLAPIServer(t)
	api.push(x509Context(t, issueSVID(t, ca1, gatewayID, nil), []*devca.CA{ca1}))
	tg := serveWith(t, parseT(t, wlapiYAML(api.addr(), be.addr)), accesslog.Options{Format: "json"}, wlapiOptions(&lockedLog{}))
	p := meshProbe{t: t, addr: tg.Addr("mesh").String(), caller: issueSVID(t, ca1, "spiffe://cluster.local/ns/shop/sa/api", nil), cas: []*devca.CA{ca1}}
	load := startRequestLoop("https://"+p.addr+"/", meshClientTLS(p.caller, ca1))
	bundle := []*devca.CA{ca1}
	var took []time.Duration // from a push to the first new handshake that shows it
	for i := 1; i <= 6; i++ {
		if i == 4 {
			bundle = []*devca.CA{ca1, ca2}
		}
		// Traffic runs across every push: some requests go before each.
		before := load.requests.Load()
		waitUntil(t, "requests before the push", func() bool { return load.requests.Load() >= before+20 })
		next := issueSVID(t, ca1, gatewayID, nil)
		pushed := time.Now()
		api.push(x509Context(t, next, bundle))
		waitUntil(t, fmt.Sprintf("rotation %d to reach new handshakes", i), func() bool {
			got, _ := p.served()
			return got == serial(next)
		})
		took = append(took, time.Since(pushed))
	}
	load.end(t, "6 rotations from the Workload API")
	handshake := time.Now()
	p.served()
	slices.Sort(took)
	t.Logf("from a push to a new handshake showing it: median %v, longest %v; one handshake alone: %v", took[len(took)/2], took[len(took)-1], time.Since(handshake))
	if got := len(tg.Config().Identity.Bundles()[0].X509Authorities()); got != 2 {
		t.Errorf("got %d roots in the bundle, want the two pushed last", got)
	}
}

// TestWorkloadAPIReload reloads a configuration that keeps the socket: the
// source stays, with its one stream and the identity it gave. A reload
// that names another socket takes the identity that one sends and closes
// the old stream.
func TestWorkloadAPIReload(t *testing.T) {
	ca := newDevCA(t)
	be := newSPIFFEBackend(t, issueSVID(t, ca, "spiffe://cluster.local/ns/shop/sa/backend", nil), ca, false, "")
	api1, api2 := newWLAPIServer(t), newWLAPIServer(t)
	first, second := issueSVID(t, ca, gatewayID, nil), issueSVID(t, ca, gatewayID, nil)
	api1.push(x509Context(t, first, []*devca.CA{ca}))
	api2.push(x509Context(t, second, []*devca.CA{ca}))
	logs := &lockedLog{}
	tg := serveWith(t, parseT(t, wlapiYAML(api1.addr(), be.addr)), accesslog.Options{Format: "json"}, wlapiOptions(logs))
	p := meshProbe{t: t, addr: tg.Addr("mesh").String(), caller: issueSVID(t, ca, "spiffe://cluster.local/ns/shop/sa/api", nil), cas: []*devca.CA{ca}}

	if err := tg.Reload(parseT(t, wlapiYAML(api1.addr(), be.addr))); err != nil {
		t.Fatal(err)
	}
	if got, err := p.served(); err != nil || got != serial(first) {
		t.Errorf("after a reload with the same socket: served %s (%v), want %s", got, err, serial(first))
	}
	if got := api1.streams.Load(); got != 1 {
		t.Errorf("after a reload with the same socket: %d streams were opened, want the first one only", got)
	}
	// The same socket with other trust settings: the identity is built
	// anew from what the API sent, and must be in the new trust domain.
	retrust := func(block string) string {
		return strings.Replace(wlapiYAML(api1.addr(), be.addr), "identity: { ", "identity: { "+block+", ", 1)
	}
	if err := tg.Reload(parseT(t, retrust("trust_domain_aliases: [old.local]"))); err != nil {
		t.Fatal(err)
	}
	if got := len(tg.Config().Identity.Bundles()); got != 2 {
		t.Errorf("after a reload with an alias: got %d bundles, want cluster.local's and the alias's", got)
	}
	err := tg.Reload(parseT(t, retrust("trust_domain: example.org")))
	if err == nil || !strings.Contains(err.Error(), "is outside the trust domain example.org") {
		t.Errorf("reload into another trust domain: got %v, want the SVID refused", err)
	}
	if got := api1.streams.Load(); got != 1 {
		t.Errorf("after reloads with the same socket: %d streams were opened, want the first one only", got)
	}

	if err := tg.Reload(parseT(t, wlapiYAML(api2.addr(), be.addr))); err != nil {
		t.Fatal(err)
	}
	if got, err := p.served(); err != nil || got != serial(second) {
		t.Errorf("after a reload with another socket: served %s (%v), want its SVID %s", got, err, serial(second))
	}
	if got := p.upstreamSaw(); got != serial(second) {
		t.Errorf("after a reload with another socket: the upstream saw %s, want %s", got, serial(second))
	}
	waitUntil(t, "the old socket's stream to close", func() bool { return api1.open.Load() == 0 })

	// A socket whose SVID the gateway cannot take fails the reload, and
	// its source closes; the running one stays.
	outside := devCAOf(t, "example.org")
	api3 := newWLAPIServer(t)
	api3.push(x509Context(t, issueSVID(t, outside, "spiffe://example.org/ns/edge/sa/gateway", nil), []*devca.CA{outside}))
	err = tg.Reload(parseT(t, wlapiYAML(api3.addr(), be.addr)))
	if err == nil || !strings.Contains(err.Error(), api3.addr()) || !strings.Contains(err.Error(), "outside the trust domain") {
		t.Errorf("reload with a socket that sends a foreign SVID: got %v, want an error naming the socket and why", err)
	}
	waitUntil(t, "the refused socket's stream to close", func() bool { return api3.open.Load() == 0 })
	if got, err := p.served(); err != nil || got != serial(second) {
		t.Errorf("after a failed reload: served %s (%v), want %s", got, err, serial(second))
	}
	api2.push(x509Context(t, first, []*devca.CA{ca}))
	waitUntil(t, "a push to the running socket to be taken after the failed reload", func() bool {
		got, _ := p.served()
		return got == serial(first)
	})
}

// TestWorkloadAPIReloadToFilesFails reloads a gateway whose identity comes
// from the Workload API into a configuration without one that cannot be
// put in force (its listener's address is taken): the reload fails with
// the bind error, and the running identity and its source stay, a later
// push still taken.
func TestWorkloadAPIReloadToFilesFails(t *testing.T) {
	ca := newDevCA(t)
	be := newSPIFFEBackend(t, issueSVID(t, ca, "spiffe://cluster.local/ns/shop/sa/backend", nil), ca, false, "")
	api := newWLAPIServer(t)
	first, second := issueSVID(t, ca, gatewayID, nil), issueSVID(t, ca, gatewayID, nil)
	api.push(x509Context(t, first, []*devca.CA{ca}))
	tg := serveWith(t, parseT(t, wlapiYAML(api.addr(), be.addr)), accesslog.Options{Format: "json"}, wlapiOptions(&lockedLog{}))
	p := meshProbe{t: t, addr: tg.Addr("mesh").String(), caller: issueSVID(t, ca, "spiffe://cluster.local/ns/shop/sa/api", nil), cas: []*devca.CA{ca}}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	plain := fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: plain, address: %q } ]
virtual_hosts: [ { name: all, hosts: ["*"], routes: [ { name: up, match: { path_prefix: / }, upstream: up } ] } ]
upstreams: [ { name: up, endpoints: ["127.0.0.1:1"] } ]
`, taken.Addr().String())
	if err := tg.Reload(parseT(t, plain)); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("reload onto a taken address: got %v, want the bind error", err)
	}
	if got, err := p.served(); err != nil || got != serial(first) {
		t.Errorf("after the failed reload: served %s (%v), want %s", got, err, serial(first))
	}
	api.push(x509Context(t, second, []*devca.CA{ca}))
	waitUntil(t, "a push to the running socket to be taken after the failed reload", func() bool {
		got, _ := p.served()
		return got == serial(second)
	})
}

// TestWorkloadAPIStart refuses to start without an SVID: none within the
// wait, the error naming the socket and what went wrong, or one the
// gateway cannot take.
func TestWorkloadAPIStart(t *testing.T) {
	ca := newDevCA(t)
	missing := "unix://" + t.TempDir() + "/agent.sock"
	silent := newWLAPIServer(t) // serves, but has no SVID for the gateway
	foreign := newWLAPIServer(t)
	outside := devCAOf(t, "example.org")
	foreign.push(x509Context(t, issueSVID(t, outside, "spiffe://example.org/ns/edge/sa/gateway", nil), []*devca.CA{outside}))
	noBundle := newWLAPIServer(t)
	noBundle.push(x509Context(t, issueSVID(t, ca, gatewayID, nil), nil))
	for _, tc := range []struct {
		name, socket string
		want         []string
	}{
		{"no socket", missing, []string{"workload API at " + missing + ": no SVID within 500ms", "no such file"}},
		{"no SVID", silent.addr(), []string{"workload API at " + silent.addr() + ": no SVID within 500ms"}},
		{"foreign", foreign.addr(), []string{"SPIFFE ID spiffe://example.org/ns/edge/sa/gateway is outside the trust domain cluster.local"}},
		{"no bundle", noBundle.addr(), []string{"no bundle for the trust domain cluster.local"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseT(t, wlapiYAML(tc.socket, "127.0.0.1:1"))
			defer cfg.Close()
			start := time.Now()
			gw, err := New(cfg, Options{Log: zerolog.Nop(), WorkloadAPIWait: 500 * time.Millisecond, WorkloadAPIRetry: 50 * time.Millisecond})
			if err == nil {
				gw.Shutdown(context.Background())
				t.Fatal("got a gateway, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %v, want it to say %q", err, w)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("New took %v, want it bounded by the wait", d)
			}
		})
	}
}

// TestWorkloadAPIWatchAgain watches again after a server ends the stream
// with InvalidArgument, on which go-spiffe's client stops watching.
func TestWorkloadAPIWatchAgain(t *testing.T) {
	ca := newDevCA(t)
	api := newWLAPIServer(t)
	api.refuse.Store(2)
	svid := issueSVID(t, ca, gatewayID, nil)
	api.push(x509Context(t, svid, []*devca.CA{ca}))
	logs := &lockedLog{}
	tg := serveWith(t, parseT(t, wlapiYAML(api.addr(), "127.0.0.1:1")), accesslog.Options{Format: "json"}, wlapiOptions(logs))
	if got := tg.Config().Identity.SVID.Certificate.Leaf.SerialNumber.String(); got != serial(svid) {
		t.Errorf("got SVID %s, want %s", got, serial(svid))
	}
	if !strings.Contains(logs.String(), "workload API watch ended; watching again") {
		t.Errorf("got log %s, want a line saying the watch ended and starts again", logs)
	}
}

// TestWLAPIServerHeader shows the test's Workload API enforcing what
// servers enforce: a call without workload.spiffe.io: true is refused, so
// that the gateway's SVIDs in the other tests prove it sends the header.
func TestWLAPIServerHeader(t *testing.T) {
	api := newWLAPIServer(t)
	conn, err := grpc.NewClient(api.addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := workload.NewSpiffeWorkloadAPIClient(conn).FetchX509SVID(ctx, &workload.X509SVIDRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("got %v, want InvalidArgument", err)
	}
}

// TestWorkloadAPIRotationKeepsPlugins rotates the identity of a
// configuration with a plugin: the plugin stays open, since the
// configuration is still in force; a reload closes it once, and the new
// configuration's at shutdown.
func TestWorkloadAPIRotationKeepsPlugins(t *testing.T) {
	ca := newDevCA(t)
	be := newSPIFFEBackend(t, issueSVID(t, ca, "spiffe://cluster.local/ns/shop/sa/backend", nil), ca, false, "")
	api := newWLAPIServer(t)
	api.push(x509Context(t, issueSVID(t, ca, gatewayID, nil), []*devca.CA{ca}))
	var closed atomic.Int64
	reg, err := plugins.NewRegistry(plugins.Factory{
		Name:   "closer",
		Config: func() any { return &struct{}{} },
		Build:  func(any) (plugins.Handler, error) { return closerPlugin{&closed}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(wlapiYAML(api.addr(), be.addr), "upstream: up }", "upstream: up, plugins: [ { closer: {} } ] }", 1)
	parse := func() *routes.Config {
		cfg, err := routes.Parse(filepath.Join(t.TempDir(), "routes.yaml"), []byte(yaml), reg)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	tg := serveWith(t, parse(), accesslog.Options{Format: "json"}, wlapiOptions(&lockedLog{}))
	p := meshProbe{t: t, addr: tg.Addr("mesh").String(), caller: issueSVID(t, ca, "spiffe://cluster.local/ns/shop/sa/api", nil), cas: []*devca.CA{ca}}
	for range 2 {
		next := issueSVID(t, ca, gatewayID, nil)
		api.push(x509Context(t, next, []*devca.CA{ca}))
		waitUntil(t, "the rotation", func() bool {
			got, _ := p.served()
			return got == serial(next)
		})
		if got := p.upstreamSaw(); got != serial(next) {
			t.Fatalf("the upstream saw %s, want %s", got, serial(next))
		}
	}
	if n := closed.Load(); n != 0 {
		t.Fatalf("after two rotations the plugin in force was closed %d times, want 0", n)
	}
	if err := tg.Reload(parse()); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the replaced configuration's plugin to close", func() bool { return closed.Load() == 1 })
	if err := tg.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := closed.Load(); n != 2 {
		t.Errorf("after shutdown the plugins were closed %d times, want 2, once each", n)
	}
}

type closerPlugin struct{ closed *atomic.Int64 }

func (closerPlugin) HandleRequest(context.Context, *plugins.Request) error { return nil }

func (c closerPlugin) Close() error {
	c.closed.Add(1)
	return nil
}

// TestWorkloadAPIRetry doubles the wait between attempts from the base up
// to the longest, and starts again from the base after a stream that
// delivered.
func TestWorkloadAPIRetry(t *testing.T) {
	b := retryStrategy{base: 250 * time.Millisecond, max: 2 * time.Second}.NewBackoff()
	var got []time.Duration
	for range 6 {
		got = append(got, b.Next())
	}
	b.Reset()
	got = append(got, b.Next())
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second, 250 * time.Millisecond}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
