package jwt_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway"
	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/plugins/jwt"
)

// TestThroughGateway loads a routes file whose policies hold a
// RequestAuthentication and an AuthorizationPolicy that requires a token,
// and serves it from a real gateway on loopback: the upstream gets the
// verified request without the token, a failed token gets Envoy's 401, a
// missing one authz's 403, and the access log records each.
func TestThroughGateway(t *testing.T) {
	iss := newIssuer(t)

	// The upstream answers with the headers it got.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "authorization=%q user=%q query=%q", r.Header.Get("Authorization"), r.Header.Get("X-User"), r.URL.RawQuery)
	})}
	go up.Serve(ln)
	defer up.Close()

	policies := `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: api-tokens, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  jwtRules:
  - issuer: https://issuer.example.com
    jwks: ` + iss.jwks + `
    outputClaimToHeaders: [ { header: x-user, claim: sub } ]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: require-token, namespace: shop }
spec:
  rules: [ { from: [ { source: { requestPrincipals: ["https://issuer.example.com/*"] } } ] } ]
`
	src := fmt.Sprintf(`admin: { address: "off" }
listeners: [{ name: web, address: "127.0.0.1:0" }]
policies: [ "policy.yaml" ]
upstreams: [{ name: api, namespace: shop, labels: { app: api }, endpoints: ["%s"] }]
virtual_hosts:
  - name: shop
    hosts: ["*"]
    routes:
      - { name: api, upstream: api }
`, ln.Addr())
	cfg, err := load(t, src, policies)
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "access.log")
	access, err := accesslog.New(accesslog.Options{Format: "json", Path: logPath})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(cfg, gateway.Options{Log: zerolog.Nop(), AccessLog: access})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gw.Shutdown(ctx)
	}()
	base := "http://" + gw.Addr("web").String()

	token := iss.token
	get := func(path, tok string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("X-User", "forged")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := get("/orders", token(time.Now().Add(time.Hour)))
	if resp.StatusCode != 200 || body != `authorization="" user="alice" query=""` {
		t.Errorf("valid token: got %d %q, want 200 and the upstream seeing no token and user alice", resp.StatusCode, body)
	}
	resp, body = get("/orders?id=7&access_token="+token(time.Now().Add(time.Hour))+"&x=%C3%A9", "")
	if resp.StatusCode != 200 || body != `authorization="" user="alice" query="id=7&x=%C3%A9"` {
		t.Errorf("token in the query: got %d %q, want 200 and the upstream seeing the query without it", resp.StatusCode, body)
	}
	resp, body = get("/orders?id=1", token(time.Now().Add(-time.Hour)))
	if resp.StatusCode != 401 || body != "Jwt is expired" {
		t.Errorf("expired token: got %d %q, want 401 Jwt is expired", resp.StatusCode, body)
	}
	if got, want := resp.Header.Get("WWW-Authenticate"), `Bearer realm="http://`+gw.Addr("web").String()+`/orders?id=1", error="invalid_token"`; got != want {
		t.Errorf("got WWW-Authenticate %q, want %q", got, want)
	}
	resp, body = get("/orders", "")
	if resp.StatusCode != 403 || body != authz.DeniedBody {
		t.Errorf("no token: got %d %q, want 403 %s: the policy requires a token", resp.StatusCode, body, authz.DeniedBody)
	}

	records := readRecords(t, logPath, 4)
	if got := records[1]["path"]; got != "/orders?id=7&x=%C3%A9" {
		t.Errorf("got path %v in the access log, want the query without the token", got)
	}
	records = append(records[:1], records[2:]...)
	if md, _ := records[0]["dynamic_metadata"].(map[string]any); md == nil || md[jwt.MetadataNamespace].(map[string]any)["principal"] != "https://issuer.example.com/alice" {
		t.Errorf("got dynamic_metadata %v, want the principal under %s", records[0]["dynamic_metadata"], jwt.MetadataNamespace)
	}
	if got := records[1]["response_code_details"]; got != "jwt_authn_access_denied{Jwt_is_expired}" {
		t.Errorf("got response_code_details %v, want jwt_authn_access_denied{Jwt_is_expired}", got)
	}
	if got := records[2]["response_code_details"]; got != authz.DetailsNone {
		t.Errorf("got response_code_details %v, want %s", got, authz.DetailsNone)
	}
}

// readRecords waits until the access log at path holds n records and
// returns them.
func readRecords(t *testing.T, path string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out []map[string]any
		if f, err := os.Open(path); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var rec map[string]any
				if json.Unmarshal(sc.Bytes(), &rec) == nil {
					out = append(out, rec)
				}
			}
			f.Close()
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d access-log records, want %d", len(out), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
