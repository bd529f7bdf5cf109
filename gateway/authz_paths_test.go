package gateway

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
	"github.com/portcullis-gw/portcullis/routes"
)

// hostileTargets are request targets that spell a guarded path another way.
var hostileTargets = []string{
	"/admin", "/admin/", "//admin", "/admin//x", "/ADMIN", "/%61dmin", "/%41DMIN", "/adm%69n/x",
	"/admin%2f..", "/admin%2F..%2Fpublic", "/%2fadmin", "/x/..%2fadmin", "/x%5c..%5cadmin", `/x\..\admin`,
	"/x/../admin", "/./admin", "/.%2e/admin", "/%2e%2e/admin", "/x/%2E%2E/admin", "/public/..;/admin",
	"/admin;x", "/admin/.;/x", "/admin%3bx", "/admin?x=/y", "/admin%23frag", "/admin%00",
	"/api/v1/secret", "/api/v1//secret", "/api/v%31/secret", "/api//secret", "/api/v1/secret/",
	"/file.bak", "/file.b%61k", "/file.bak/", "/file.bak%2f", "/public", "/public/%2e%2e/admin",
}

// guardedPolicy denies the paths the corpus spells otherwise, in the root
// namespace, so that it guards every route.
const guardedPolicy = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: guard, namespace: istio-system }
spec:
  action: DENY
  rules:
  - to: [ { operation: { paths: ["/admin", "/admin/*", "/api/{*}/secret", "*.bak"] } } ]
`

// TestAuthzDecidesTheForwardedPath sends every hostile target under every
// path normalisation mode and checks that the policy decided on the path
// the upstream receives: a forwarded request's path is one the policy
// allows, and a denied one's logged path is one it denies. Under the edge
// default, what a backend reads of the path after decoding it must be
// decided the same way, too.
func TestAuthzDecidesTheForwardedPath(t *testing.T) {
	var mu sync.Mutex
	received := map[string]string{}
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		received[r.Header.Get("X-Request-Id")] = r.RequestURI
		mu.Unlock()
	})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.yaml"), guardedPolicy)
	_, engine, err := authz.Load([]string{filepath.Join(dir, "p.yaml")}, authz.Mesh{})
	if err != nil {
		t.Fatal(err)
	}
	guard := engine.ForWorkload("app", nil)
	denied := func(p string) bool {
		hr, _ := http.NewRequest("GET", "http://svc", nil)
		r := plugintest.Request(hr)
		r.RequestView.(*plugins.StdRequest).SetTarget(p, "")
		r.Peer = netip.MustParseAddrPort("127.0.0.1:1")
		return !guard.Decide(r).Allowed
	}
	for _, mode := range []string{"edge", "base", "merge_slashes", "decode_and_merge_slashes", "none"} {
		t.Run(mode, func(t *testing.T) {
			plugs, _ := plugins.NewRegistry(authz.New(nil).Factory())
			cfg, err := routes.Parse(filepath.Join(dir, "routes.yaml"), []byte(fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
policies: [ p.yaml ]
mesh: { path_normalization: %s }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q], namespace: app } ]
`, mode, be.addr())), plugs)
			if err != nil {
				t.Fatal(err)
			}
			tg := startGatewayWith(t, cfg)
			codes := make([]string, len(hostileTargets))
			for i, target := range hostileTargets {
				status := rawRequest(t, tg.Addr("web").String(), "GET "+target+" HTTP/1.1\r\nHost: svc\r\nX-Request-Id: "+
					fmt.Sprintf("paths-%s-%d", mode, i)+"\r\nConnection: close\r\n\r\n")
				codes[i] = strings.Fields(status)[1]
			}
			logged := map[string]string{}
			waitUntil(t, "every request logged", func() bool {
				for _, e := range readLog(t, tg.logPath) {
					id, _ := e["request_id"].(string)
					logged[id], _ = e["path"].(string)
				}
				return len(logged) >= len(hostileTargets)
			})
			for i, target := range hostileTargets {
				id := fmt.Sprintf("paths-%s-%d", mode, i)
				mu.Lock()
				got, forwarded := received[id]
				mu.Unlock()
				loggedPath, _, _ := strings.Cut(logged[id], "?")
				switch codes[i] {
				case "200":
					if !forwarded {
						t.Fatalf("%s: 200 without reaching the upstream", target)
					}
					p, _, _ := strings.Cut(got, "?")
					if denied(p) {
						t.Errorf("%s: forwarded as %s, which the policy denies", target, p)
					}
					if got != logged[id] {
						t.Errorf("%s: upstream got %s, the access log says %s", target, got, logged[id])
					}
					if mode == "edge" && denied(backendReading(t, p)) {
						t.Errorf("%s: forwarded as %s, which a backend reads as %s, which the policy denies", target, p, backendReading(t, p))
					}
				case "403":
					if forwarded {
						t.Errorf("%s: denied and forwarded", target)
					}
					if !denied(loggedPath) {
						t.Errorf("%s: denied, but the policy allows its path %s", target, loggedPath)
					}
				case "400":
					if forwarded {
						t.Errorf("%s: refused and forwarded", target)
					}
				default:
					t.Errorf("%s: got status %s", target, codes[i])
				}
			}
		})
	}
}

// backendReading is the path a backend that decodes percent escapes and
// resolves dot segments reads, escaped again as the gateway would send it.
func backendReading(t *testing.T, p string) string {
	t.Helper()
	dec, err := url.PathUnescape(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	clean := path.Clean(dec)
	if strings.HasSuffix(dec, "/") && clean != "/" {
		clean += "/"
	}
	return (&url.URL{Path: clean}).EscapedPath()
}
