package jwt

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/rs/zerolog"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// jwksServer is an issuer's key server on 127.0.0.1 over TLS with a
// certificate from a CA the test makes.
type jwksServer struct {
	base  string // https://127.0.0.1:port
	url   string
	roots *x509.CertPool
	caPEM []byte // the CA of roots, as a routes file's ca_file holds it
	body  atomic.Pointer[string]
	down  atomic.Bool
	hits  atomic.Int64
}

func newJWKSServer(t *testing.T, body string) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.body.Store(&body)
	ca, err := devca.New(spiffeid.RequireTrustDomainFromString("issuer.test"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	svid, err := ca.Issue(spiffeid.RequireFromString("spiffe://issuer.test/jwks"), devca.IssueOptions{
		Edit: func(c *x509.Certificate) { c.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)} },
	})
	if err != nil {
		t.Fatal(err)
	}
	s.roots = x509.NewCertPool()
	s.roots.AddCert(ca.Root())
	s.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Root().Raw})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.hits.Add(1)
			if s.down.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == "/.well-known/openid-configuration" {
				w.Write([]byte(`{"issuer":"` + s.base + `","jwks_uri":"` + s.url + `"}`))
				return
			}
			w.Write([]byte(*s.body.Load()))
		}),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{svid.TLSCertificate()}},
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	s.base = "https://" + ln.Addr().String()
	s.url = s.base + "/jwks"
	return s
}

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a log sink safe for the fetch goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// waitUntil polls cond until it holds or a generous deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// remoteSetup compiles a rule that fetches keys from srv with the test
// clock and a log sink.
func remoteSetup(t *testing.T, srv *jwksServer, opts Options) (*Handler, *clock, *syncBuffer) {
	t.Helper()
	clk := &clock{now: time.Now()}
	logs := &syncBuffer{}
	log := zerolog.New(logs)
	opts.Now, opts.RootCAs, opts.Log = clk.Now, srv.roots, &log
	spec := "jwtRules:\n- issuer: " + issuer + "\n  jwksUri: " + srv.url + "\n  timeout: 5s\n"
	return handlerFor(t, opts, spec), clk, logs
}

// fresh returns claims valid at the clock's time.
func fresh(clk *clock) map[string]any {
	c := claims()
	c["iat"], c["exp"] = clk.Now().Unix(), clk.Now().Add(24*time.Hour).Unix()
	return c
}

// TestRemoteKeys checks keys fetched from jwksUri over TLS: fetched once
// and cached, refreshed after the interval in the background, fetched
// again for a key id they lack (at most once per interval), and served
// stale within the bound while the issuer is down.
func TestRemoteKeys(t *testing.T) {
	es, ed := keyFor(jose.ES256), keyFor(jose.EdDSA)
	srv := newJWKSServer(t, jwks(t, es))
	h, clk, logs := remoteSetup(t, srv, Options{RefreshInterval: time.Minute, MaxStale: 10 * time.Minute, KidRefreshInterval: 30 * time.Second, RetryInterval: time.Second})
	pass := func(tok string) {
		t.Helper()
		if req, err := run(t, h, "/", bearer(tok)); err != nil || req.Auth == nil {
			t.Fatalf("got %v, want the token to pass", err)
		}
	}
	fail := func(tok, want string) {
		t.Helper()
		if _, err := run(t, h, "/", bearer(tok)); rejection(err) == nil || rejection(err).Body != want {
			t.Fatalf("got %v, want a rejection with %q", err, want)
		}
	}

	pass(sign(t, es, fresh(clk), nil))
	pass(sign(t, es, fresh(clk), nil))
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("got %d fetches for two tokens, want 1", n)
	}

	// Refresh: past the interval the old keys serve while a fetch runs.
	clk.add(2 * time.Minute)
	pass(sign(t, es, fresh(clk), nil))
	rk := h.rules[0].keys.(*remoteKeys)
	waitUntil(t, "the keys are fetched again", func() bool {
		rk.mu.Lock()
		defer rk.mu.Unlock()
		return srv.hits.Load() == 2 && rk.inflight == nil
	})

	// Rotation: a token with an unknown kid waits for a fetch.
	srv.body.Store(ptr(jwks(t, es, ed)))
	pass(sign(t, ed, fresh(clk), nil))
	if n := srv.hits.Load(); n != 3 {
		t.Fatalf("got %d fetches after an unknown kid, want 3", n)
	}
	// Another unknown kid soon after fetches nothing.
	rotated := es
	rotated.kid = "unknown"
	fail(sign(t, rotated, fresh(clk), nil), statusKidAlgMismatch)
	if n := srv.hits.Load(); n != 3 {
		t.Fatalf("got %d fetches for a second unknown kid within the interval, want 3", n)
	}

	// Down: stale keys serve within the bound, and the failure is logged.
	srv.down.Store(true)
	clk.add(2 * time.Minute)
	pass(sign(t, es, fresh(clk), nil))
	waitUntil(t, "the failed fetch is logged", func() bool { return strings.Contains(logs.String(), "fetching the JWKS failed") })
	if !strings.Contains(logs.String(), srv.url) || !strings.Contains(logs.String(), "503") {
		t.Errorf("got log %q, want the URI and the status", logs.String())
	}
	clk.add(5 * time.Minute)
	pass(sign(t, es, fresh(clk), nil))

	// Past the bound the keys no longer serve.
	clk.add(10 * time.Minute)
	fail(sign(t, es, fresh(clk), nil), statusFetchFail)
	if req, err := run(t, h, "/", nil); err != nil || req.Auth != nil {
		t.Fatalf("got %v, want a request without a token to pass", err)
	}

	// Back up: the next attempt after the retry interval fetches again.
	srv.down.Store(false)
	clk.add(2 * time.Second)
	pass(sign(t, es, fresh(clk), nil))
	waitUntil(t, "the recovery is logged", func() bool { return strings.Contains(logs.String(), "works again") })
}

// TestRemoteKeysDown checks an issuer down from the start: tokens fail with
// Envoy's fetch failure, attempts are spaced by the retry interval, and
// requests without a token pass.
func TestRemoteKeysDown(t *testing.T) {
	srv := newJWKSServer(t, "")
	srv.down.Store(true)
	h, clk, _ := remoteSetup(t, srv, Options{RetryInterval: time.Minute})
	tok := sign(t, keyFor(jose.ES256), fresh(clk), nil)
	for i := 0; i < 3; i++ {
		if _, err := run(t, h, "/", bearer(tok)); rejection(err) == nil || rejection(err).Body != statusFetchFail {
			t.Fatalf("got %v, want a rejection with %q", err, statusFetchFail)
		}
	}
	if n := srv.hits.Load(); n != 1 {
		t.Errorf("got %d fetches within the retry interval, want 1", n)
	}
	if req, err := run(t, h, "/", nil); err != nil || req.Auth != nil {
		t.Errorf("got %v, want a request without a token to pass", err)
	}
}

// TestRemoteKeysRefused checks what a fetch refuses: a server whose
// certificate the roots do not trust, a body that is no JWKS, and a
// redirect to plain http.
func TestRemoteKeysRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, srv *jwksServer) Options
		log   string
	}{
		{"untrusted certificate", func(t *testing.T, srv *jwksServer) Options {
			return Options{HTTPClient: &http.Client{}}
		}, "certificate"},
		{"not a JWKS", func(t *testing.T, srv *jwksServer) Options {
			srv.body.Store(ptr(`{"keys": "no"}`))
			return Options{}
		}, "jwks is an invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, jwks(t, keyFor(jose.ES256)))
			opts := tt.setup(t, srv)
			clk := &clock{now: time.Now()}
			logs := &syncBuffer{}
			log := zerolog.New(logs)
			opts.Now, opts.Log = clk.Now, &log
			if opts.HTTPClient == nil {
				opts.RootCAs = srv.roots
			}
			h := handlerFor(t, opts, "jwtRules:\n- issuer: "+issuer+"\n  jwksUri: "+srv.url+"\n")
			_, err := run(t, h, "/", bearer(sign(t, keyFor(jose.ES256), fresh(clk), nil)))
			if r := rejection(err); r == nil || r.Body != statusFetchFail {
				t.Fatalf("got %v, want a rejection with %q", err, statusFetchFail)
			}
			waitUntil(t, "the failure is logged", func() bool { return strings.Contains(logs.String(), tt.log) })
		})
	}
	t.Run("redirect to http", func(t *testing.T) {
		c := fetchClient(&Options{})
		req, _ := http.NewRequest(http.MethodGet, "http://keys.example.com/jwks", nil)
		if err := c.CheckRedirect(req, []*http.Request{req}); err == nil {
			t.Error("got a redirect to plain http followed, want it refused")
		}
	})
}

// TestDiscovery checks a rule with neither jwks nor jwksUri: the keys'
// URI is read from the issuer's OpenID configuration, as istiod reads it.
func TestDiscovery(t *testing.T) {
	es := keyFor(jose.ES256)
	srv := newJWKSServer(t, jwks(t, es))
	clk := &clock{now: time.Now()}
	h := handlerFor(t, Options{Now: clk.Now, RootCAs: srv.roots}, "jwtRules:\n- issuer: "+srv.base+"\n")
	c := fresh(clk)
	c["iss"] = srv.base
	req, err := run(t, h, "/", bearer(sign(t, es, c, nil)))
	if err != nil || req.Auth == nil {
		t.Fatalf("got %v, want the token to pass", err)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Errorf("got %d requests to the issuer, want 2: the configuration, then the keys", n)
	}
}

// TestCachedTokens checks that a token verified once and kept is still
// checked on every use: its times against the clock, and its signature
// again once the keys that verified it are replaced.
func TestCachedTokens(t *testing.T) {
	es, ed := keyFor(jose.ES256), keyFor(jose.EdDSA)
	srv := newJWKSServer(t, jwks(t, es))
	h, clk, _ := remoteSetup(t, srv, Options{RefreshInterval: time.Minute})
	c := fresh(clk)
	c["exp"] = clk.Now().Add(10 * time.Minute).Unix()
	tok := sign(t, es, c, nil)
	for i := 0; i < 2; i++ {
		if req, err := run(t, h, "/", bearer(tok)); err != nil || req.Auth == nil {
			t.Fatalf("use %d: got %v, want the token to pass", i, err)
		}
	}
	if h.cache.Len() != 1 {
		t.Fatalf("got %d cached tokens, want 1", h.cache.Len())
	}

	// The issuer drops the key: once the keys are fetched again, the
	// cached token no longer passes.
	srv.body.Store(ptr(jwks(t, ed)))
	clk.add(2 * time.Minute)
	run(t, h, "/", nil)
	run(t, h, "/", bearer(sign(t, ed, fresh(clk), nil))) // starts the refresh
	waitUntil(t, "the keys are fetched again", func() bool { return srv.hits.Load() >= 2 })
	waitUntil(t, "the new keys serve", func() bool {
		_, err := run(t, h, "/", bearer(sign(t, ed, fresh(clk), nil)))
		return err == nil
	})
	if _, err := run(t, h, "/", bearer(tok)); rejection(err) == nil || rejection(err).Body != statusKidAlgMismatch {
		t.Fatalf("got %v for a cached token whose key is gone, want %q", err, statusKidAlgMismatch)
	}

	// A cached token expires on time.
	srv.body.Store(ptr(jwks(t, es, ed)))
	tok2 := sign(t, ed, c, nil)
	if _, err := run(t, h, "/", bearer(tok2)); err != nil {
		t.Fatalf("got %v, want the token to pass", err)
	}
	clk.add(10 * time.Minute)
	if _, err := run(t, h, "/", bearer(tok2)); rejection(err) == nil || rejection(err).Body != statusExpired {
		t.Fatalf("got %v for a cached token past its exp, want %q", err, statusExpired)
	}
}

// TestReloadKeepsKeys checks that a Set compiled to replace another starts
// with the keys the other fetched, so a reload makes no request wait.
func TestReloadKeepsKeys(t *testing.T) {
	es := keyFor(jose.ES256)
	srv := newJWKSServer(t, jwks(t, es))
	clk := &clock{now: time.Now()}
	spec := "jwtRules:\n- issuer: " + issuer + "\n  jwksUri: " + srv.url + "\n"
	compile := func(prev *Set) *Set {
		s, err := Compile([]Document{doc("shop", "ra", spec)}, Options{Now: clk.Now, RootCAs: srv.roots, Previous: prev})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	old := compile(nil)
	tok := sign(t, es, fresh(clk), nil)
	if _, err := run(t, old.For("shop", nil), "/", bearer(tok)); err != nil {
		t.Fatal(err)
	}
	reloaded := compile(old)
	old.Close()
	srv.down.Store(true)
	if _, err := run(t, reloaded.For("shop", nil), "/", bearer(tok)); err != nil {
		t.Fatalf("got %v after a reload with the issuer down, want the kept keys to verify", err)
	}
	if n := srv.hits.Load(); n != 1 {
		t.Errorf("got %d fetches, want 1: the reloaded Set keeps the keys", n)
	}
	if _, err := run(t, compile(nil).For("shop", nil), "/", bearer(tok)); rejection(err) == nil {
		t.Errorf("got %v from a Set without a previous one and the issuer down, want a rejection", err)
	}

	// A closed Set fetches nothing more, and closing again or a nil Set
	// is harmless.
	srv.down.Store(false)
	closed := compile(nil)
	closed.Close()
	closed.Close()
	(*Set)(nil).Close()
	hits := srv.hits.Load()
	if _, err := run(t, closed.For("shop", nil), "/", bearer(tok)); rejection(err) == nil || srv.hits.Load() != hits {
		t.Errorf("got %v and %d fetches from a closed Set, want a rejection and none", err, srv.hits.Load()-hits)
	}
}

// TestRemoteSkipsKeys checks that a fetched JWKS serves its usable keys
// while those the gateway refuses (oct, here) are left out and logged.
func TestRemoteSkipsKeys(t *testing.T) {
	es := keyFor(jose.ES256)
	good := jwks(t, es)
	srv := newJWKSServer(t, strings.Replace(good, `"keys":[`, `"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"hmac"},`, 1))
	h, clk, logs := remoteSetup(t, srv, Options{})
	if _, err := run(t, h, "/", bearer(sign(t, es, fresh(clk), nil))); err != nil {
		t.Fatalf("got %v, want the usable key to verify", err)
	}
	if !strings.Contains(logs.String(), "symmetric (oct) keys are not accepted") {
		t.Errorf("got log %q, want the oct key named", logs.String())
	}
}

func ptr(s string) *string { return &s }
