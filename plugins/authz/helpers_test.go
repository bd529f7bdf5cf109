package authz

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// rq describes a request for a decision table: every field has a default
// that no policy in the tables names.
type rq struct {
	method, host, target string
	// principal is the caller's mTLS principal (td/ns/x/sa/y), empty for
	// none.
	principal   string
	peer, local string // ip, ip:port
	client      string // remote.ip after trusted proxies; default peer
	sni         string
	headers     []string // name, value pairs
	auth        *plugins.RequestAuth
}

// request builds the view the gateway would hand the plugin.
func (q rq) request(t testing.TB) *plugins.Request {
	t.Helper()
	method, host, target := q.method, q.host, q.target
	if method == "" {
		method = "GET"
	}
	if host == "" {
		host = "svc.example.com"
	}
	if target == "" {
		target = "/"
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		t.Fatalf("target %q: %v", target, err)
	}
	peer := q.peer
	if peer == "" {
		peer = "10.9.9.9"
	}
	h := http.Header{}
	for i := 0; i+1 < len(q.headers); i += 2 {
		h.Add(q.headers[i], q.headers[i+1])
	}
	hr := &http.Request{Method: method, URL: u, RequestURI: target, Host: host, Header: h,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Body: http.NoBody,
		RemoteAddr: netip.AddrPortFrom(netip.MustParseAddr(peer), 40000).String()}
	r := plugintest.Request(hr)
	// The gateway hands plugins the path as it forwards it, still escaped.
	rawPath, rawQuery, _ := strings.Cut(target, "?")
	r.RequestView.(*plugins.StdRequest).SetTarget(rawPath, rawQuery)
	if q.client != "" {
		r.Client = netip.MustParseAddr(q.client)
	}
	local := q.local
	if local == "" {
		local = "10.0.0.1:8443"
	}
	r.Local = netip.MustParseAddrPort(local)
	r.SNI = q.sni
	r.Auth = q.auth
	if q.principal != "" {
		td, path, _ := strings.Cut(q.principal, "/")
		id := &plugins.Identity{SPIFFEID: "spiffe://" + q.principal, Principal: q.principal, TrustDomain: td}
		if parts := strings.Split(path, "/"); len(parts) == 4 && parts[0] == "ns" && parts[2] == "sa" {
			id.Namespace, id.ServiceAccount = parts[1], parts[3]
		}
		r.Identity = id
	}
	return r
}

// load parses and compiles documents, failing the test on any error.
func load(t testing.TB, docs string, mesh Mesh) *Engine {
	t.Helper()
	var s Set
	if err := s.Parse("test.yaml", []byte(docs)); err != nil {
		t.Fatalf("loading:\n%v", err)
	}
	e, err := Compile(&s, mesh)
	if err != nil {
		t.Fatalf("compiling: %v", err)
	}
	return e
}

// verdict writes a decision as the tables expect it: "allow",
// "allow:<rule id>", "deny:<rule id>" or "deny:none".
func verdict(d Decision) string {
	switch {
	case d.Allowed && d.By.Policy != nil:
		return "allow:" + d.By.ID
	case d.Allowed:
		return "allow"
	case d.By.Policy != nil:
		return "deny:" + d.By.ID
	}
	return "deny:none"
}

// policy writes one AuthorizationPolicy document in namespace foo unless
// the header says otherwise.
func policy(name, spec string) string {
	ns := "foo"
	if n, rest, ok := strings.Cut(name, "/"); ok {
		ns, name = n, rest
	}
	return "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: " + name +
		"\n  namespace: " + ns + "\nspec:\n" + indent(spec, "  ") + "\n---\n"
}

func indent(s, by string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "\n")
}

// tableCase is one request of a group and the verdict it must get.
type tableCase struct {
	name string
	q    rq
	want string
}

// group is a set of policies, the workload it guards, and requests.
type group struct {
	name   string
	docs   string
	mesh   Mesh
	ns     string // workload namespace; default foo
	labels map[string]string
	cases  []tableCase
}

func runGroups(t *testing.T, groups []group) int {
	n := 0
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			e := load(t, g.docs, g.mesh)
			ns := g.ns
			if ns == "" {
				ns = "foo"
			}
			guard := e.ForWorkload(ns, g.labels)
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					if got := verdict(guard.Decide(c.q.request(t))); got != c.want {
						t.Errorf("got %s, want %s", got, c.want)
					}
				})
			}
		})
		n += len(g.cases)
	}
	return n
}

func replaceAll(s, old, new string) string { return strings.ReplaceAll(s, old, new) }
