package authz

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/portcullis-gw/portcullis/plugins"
)

// authorizer is an external authorizer run by a test on 127.0.0.1: it
// answers every check with what answer says and keeps the last check.
type authorizer struct {
	addr   string
	mu     sync.Mutex
	last   *http.Request
	body   string
	checks int
}

func newAuthorizer(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *authorizer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &authorizer{addr: ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.last, a.body, a.checks = r, string(b), a.checks+1
		a.mu.Unlock()
		answer(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return a
}

func (a *authorizer) seen() (*http.Request, string, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last, a.body, a.checks
}

// upstreams reaches the named upstream at one address over plain HTTP, as
// the gateway's pool of that upstream would.
type upstreams map[string]string

func (u upstreams) RoundTrip(name string, req *http.Request) (*http.Response, error) {
	addr, ok := u[name]
	if !ok {
		return nil, errors.New("no upstream " + name)
	}
	req.URL.Host = addr
	return http.DefaultTransport.RoundTrip(req)
}

// customHandler builds the handler of workload foo/httpbin guarded by a
// CUSTOM policy on /check* (and docs after it) that asks provider ext.
func customHandler(t *testing.T, ext plugins.ExtAuthz, docs string) (*Authz, *metrics) {
	t.Helper()
	ext.Name, ext.Upstream = "ext", "authorizer"
	if ext.StatusOnError == 0 {
		ext.StatusOnError = 403
	}
	if ext.Timeout == 0 {
		ext.Timeout = 5 * time.Second
	}
	docs = policy("ask", "action: CUSTOM\nprovider: {name: ext}\nrules: [{to: [{operation: {paths: [\"/check*\"]}}]}]") + docs
	e := load(t, docs, Mesh{ExtAuthz: []plugins.ExtAuthz{ext}})
	g, err := e.Guard("foo", map[string]string{"app": "httpbin"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := newMetrics(nil)
	return newHandler(g, m), m
}

func TestExtAuthzAllowAddsHeaders(t *testing.T) {
	a := newAuthorizer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-User", "alice")
		w.Header().Set("X-Other", "dropped")
		w.Header().Set("Content-Length", "0")
	})
	h, m := customHandler(t, plugins.ExtAuthz{
		PathPrefix:               "/authz",
		IncludeRequestHeaders:    []string{"authorization", "x-tenant-*"},
		IncludeAdditional:        map[string]string{"X-Added": "yes"},
		HeadersToUpstreamOnAllow: []string{"x-user"},
	}, "")
	req := rq{method: "POST", target: "/check/a?q=1", headers: []string{"Authorization", "Bearer t",
		"X-Tenant-Id", "7", "X-Secret", "s", "X-User", "forged"}}.request(t)
	req.Upstreams = upstreams{"authorizer": a.addr}
	req.ID = "req-1"
	if err := h.HandleRequest(context.Background(), req); err != nil {
		t.Fatalf("got %v, want allowed", err)
	}
	got, body, _ := a.seen()
	checks := []struct{ what, got, want string }{
		{"method", got.Method, "POST"},
		{"path", got.RequestURI, "/authz/check/a?q=1"},
		{"host", got.Host, "svc.example.com"},
		{"authorization", got.Header.Get("Authorization"), "Bearer t"},
		{"x-tenant-id", got.Header.Get("X-Tenant-Id"), "7"},
		{"x-secret", got.Header.Get("X-Secret"), ""},
		{"x-user", got.Header.Get("X-User"), ""},
		{"x-added", got.Header.Get("X-Added"), "yes"},
		{"x-forwarded-proto", got.Header.Get("X-Forwarded-Proto"), "http"},
		{"x-envoy-expected-rq-timeout-ms", got.Header.Get("X-Envoy-Expected-Rq-Timeout-Ms"), "5000"},
		{"x-request-id", got.Header.Get("X-Request-Id"), "req-1"},
		{"content-length", got.Header.Get("Content-Length"), "0"},
		{"body", body, ""},
		{"upstream x-user", req.Header().Get("X-User"), "alice"},
		{"upstream x-other", req.Header().Get("X-Other"), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
	if n := checksOf(m, "ext", "ok"); n != 1 {
		t.Errorf("ok checks: got %v, want 1", n)
	}
}

func TestExtAuthzDeny(t *testing.T) {
	a := newAuthorizer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Reason", "no tenant")
		w.Header().Set("X-Internal", "hidden")
		w.Header().Set("WWW-Authenticate", "Bearer")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "go away")
	})
	for _, c := range []struct {
		name       string
		toClient   []string
		want, gone []string
	}{
		{"listed headers", []string{"x-reason"}, []string{"X-Reason", "Www-Authenticate"}, []string{"X-Internal"}},
		{"all headers when unlisted", nil, []string{"X-Reason", "X-Internal", "Www-Authenticate"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, m := customHandler(t, plugins.ExtAuthz{HeadersToDownstreamOnDeny: c.toClient}, "")
			req := rq{target: "/check"}.request(t)
			req.Upstreams = upstreams{"authorizer": a.addr}
			var rej *plugins.Reject
			if err := h.HandleRequest(context.Background(), req); !errors.As(err, &rej) {
				t.Fatalf("got %v, want a rejection", err)
			}
			if rej.Status != 401 || rej.Body != "go away" || rej.Flag != "UAEX" || rej.Details != "ext_authz_denied" {
				t.Errorf("got %d %q %s %s, want 401 \"go away\" UAEX ext_authz_denied", rej.Status, rej.Body, rej.Flag, rej.Details)
			}
			for _, n := range c.want {
				if rej.Header.Get(n) == "" {
					t.Errorf("header %s: missing, want it passed to the client", n)
				}
			}
			for _, n := range append(c.gone, "Content-Length", "Date") {
				if n != "Date" && rej.Header.Get(n) != "" {
					t.Errorf("header %s: got %q, want it kept from the client", n, rej.Header.Get(n))
				}
			}
			if n := checksOf(m, "ext", "denied"); n != 1 {
				t.Errorf("denied checks: got %v, want 1", n)
			}
		})
	}
}

// TestExtAuthzOnlyMatchingRequests: only a request that a CUSTOM rule
// matches goes to the authorizer; DENY and ALLOW policies decide after it
// allows, and see the headers it added.
func TestExtAuthzOnlyMatchingRequests(t *testing.T) {
	a := newAuthorizer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Role", r.Header.Get("X-Want"))
	})
	docs := policy("deny-guest", "action: DENY\nrules: [{when: [{key: \"request.headers[x-role]\", values: [guest]}]}]") +
		policy("allow-some", "rules: [{to: [{operation: {paths: [\"/check*\", \"/open\"]}}]}]")
	h, _ := customHandler(t, plugins.ExtAuthz{IncludeRequestHeaders: []string{"x-want"}, HeadersToUpstreamOnAllow: []string{"x-role"}}, docs)
	cases := []struct {
		target, want string
		asked        bool
		status       int
	}{
		{"/open", "", false, 0},
		{"/closed", "", false, 403},
		{"/check/x", "admin", true, 0},
		{"/check/x", "guest", true, 403},
	}
	for i, c := range cases {
		_, _, before := a.seen()
		req := rq{target: c.target, headers: []string{"X-Want", c.want}}.request(t)
		req.Upstreams = upstreams{"authorizer": a.addr}
		err := h.HandleRequest(context.Background(), req)
		var rej *plugins.Reject
		status := 0
		if errors.As(err, &rej) {
			status = rej.Status
		}
		_, _, after := a.seen()
		if status != c.status || (after > before) != c.asked {
			t.Errorf("case %d %s: got status %d asked %v, want %d asked %v", i, c.target, status, after > before, c.status, c.asked)
		}
	}
}

func TestExtAuthzFailures(t *testing.T) {
	slow := newAuthorizer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	broken := newAuthorizer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	cases := []struct {
		name, addr string
		cfg        plugins.ExtAuthz
		status     int // 0: let through
		reason     string
		result     string
	}{
		{"timeout closed", slow.addr, plugins.ExtAuthz{Timeout: 100 * time.Millisecond}, 403, "timeout", "error"},
		{"timeout open", slow.addr, plugins.ExtAuthz{Timeout: 100 * time.Millisecond, FailOpen: true}, 0, "timeout", "failure_mode_allowed"},
		{"down closed", down, plugins.ExtAuthz{StatusOnError: 503}, 503, "connection failed", "error"},
		{"down open", down, plugins.ExtAuthz{FailOpen: true}, 0, "connection failed", "failure_mode_allowed"},
		{"5xx closed", broken.addr, plugins.ExtAuthz{}, 403, "status 503", "error"},
		{"5xx open", broken.addr, plugins.ExtAuthz{FailOpen: true}, 0, "status 503", "failure_mode_allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, m := customHandler(t, c.cfg, "")
			req := rq{target: "/check"}.request(t)
			req.Upstreams = upstreams{"authorizer": c.addr}
			start := time.Now()
			err := h.HandleRequest(context.Background(), req)
			if c.cfg.Timeout > 0 && time.Since(start) > 5*time.Second {
				t.Errorf("took %v, want the timeout to cut the check", time.Since(start))
			}
			var rej *plugins.Reject
			switch {
			case c.status == 0 && err != nil:
				t.Fatalf("got %v, want the request let through", err)
			case c.status != 0 && !errors.As(err, &rej):
				t.Fatalf("got %v, want %d", err, c.status)
			case c.status != 0 && (rej.Status != c.status || rej.Flag != "UAEX" || rej.Details != "ext_authz_error"):
				t.Errorf("got %d %s %s, want %d UAEX ext_authz_error", rej.Status, rej.Flag, rej.Details, c.status)
			}
			if v, _ := req.Metadata.Get(NoteExtAuthz, "error"); v != c.reason {
				t.Errorf("error metadata: got %q, want %q", v, c.reason)
			}
			v, _ := req.Metadata.Get(NoteExtAuthz, "failure_mode_allowed")
			if (v == "true") != (c.status == 0) {
				t.Errorf("failure_mode_allowed: got %q with status %d", v, c.status)
			}
			if n := checksOf(m, "ext", c.result); n != 1 {
				t.Errorf("%s checks: got %v, want 1", c.result, n)
			}
		})
	}
}

func TestExtAuthzBody(t *testing.T) {
	a := newAuthorizer(t, func(w http.ResponseWriter, r *http.Request) {})
	cases := []struct {
		name     string
		body     string
		partial  bool
		status   int
		sent     string
		flagPart string
	}{
		{"whole body", "hello", false, 0, "hello", ""},
		{"at the limit", "0123456789", false, 0, "0123456789", ""},
		{"too long", "0123456789x", false, 413, "", ""},
		{"partial", "0123456789xyz", true, 0, "0123456789", "true"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, _ := customHandler(t, plugins.ExtAuthz{Body: &plugins.ExtAuthzBody{MaxRequestBytes: 10, AllowPartial: c.partial}}, "")
			hr, _ := http.NewRequest("POST", "http://svc.example.com/check", strings.NewReader(c.body))
			req := rq{method: "POST", target: "/check"}.request(t)
			req.SetBody(hr.Body, hr.ContentLength)
			req.Upstreams = upstreams{"authorizer": a.addr}
			_, _, before := a.seen()
			err := h.HandleRequest(context.Background(), req)
			var rej *plugins.Reject
			if c.status != 0 {
				if !errors.As(err, &rej) || rej.Status != c.status {
					t.Fatalf("got %v, want %d", err, c.status)
				}
				if _, _, after := a.seen(); after != before {
					t.Errorf("the authorizer was asked about a body too long to send")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, sent, _ := a.seen()
			if sent != c.sent || got.Header.Get("X-Envoy-Auth-Partial-Body") != c.flagPart {
				t.Errorf("got body %q partial %q, want %q %q", sent, got.Header.Get("X-Envoy-Auth-Partial-Body"), c.sent, c.flagPart)
			}
			fwd, _ := io.ReadAll(req.Body())
			if string(fwd) != c.body || req.ContentLength() != int64(len(c.body)) {
				t.Errorf("upstream gets %q (%d), want %q", fwd, req.ContentLength(), c.body)
			}
		})
	}
}

// TestHeaderPatterns reads Istio's header patterns with hostile names.
func TestHeaderPatterns(t *testing.T) {
	ps := patterns([]string{"Authorization", "x-tenant-*", "*-token"})
	cases := []struct {
		name string
		want bool
	}{
		{"authorization", true}, {"AUTHORIZATION", true}, {"authorization2", false}, {"x-authorization", false},
		{"x-tenant-", true}, {"X-Tenant-Id", true}, {"x-tenant", false}, {"xx-tenant-id", false},
		{"my-token", true}, {"-token", true}, {"token", false}, {"my-token-2", false}, {"", false},
	}
	for _, c := range cases {
		if got := matchAny(ps, c.name); got != c.want {
			t.Errorf("%q: got %v, want %v", c.name, got, c.want)
		}
	}
	for _, n := range []string{"Host", "content-length", "Transfer-Encoding", "connection", "TE"} {
		if !framing(n) {
			t.Errorf("%s: got not framing, want framing", n)
		}
	}
}

// checksOf reads portcullis_authz_ext_authz_total of a provider and result.
func checksOf(m *metrics, provider, result string) float64 {
	var out dto.Metric
	_ = m.extAuthz.WithLabelValues(provider, result).Write(&out)
	return out.GetCounter().GetValue()
}
