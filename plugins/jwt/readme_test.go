package jwt

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"regexp"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// readmeKey is the private half of the key the README's first example
// holds inline; it signs nothing but this test's tokens.
const readmeKey = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEICJAU8W/rZXxW+vnozIL41zhA5RkwV205KcGddSVXDfWoAoGCCqGSM49
AwEHoUQDQgAEM/bLmQyqsO6GDZ3L22ic2bnhrlXtk1MU+MoFUnzu3ECUWQDXjutK
MTxfsp3kkeH3XF8jqLgtCDxOSOnsrLDAqA==
-----END EC PRIVATE KEY-----`

var yamlBlock = regexp.MustCompile("(?ms)^```yaml\n(.*?)^```")

// readmeDocs loads the RequestAuthentication documents of each yaml
// example of README.md, as the policies loader hands them over.
func readmeDocs(t *testing.T) [][]Document {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]Document
	for _, b := range yamlBlock.FindAllSubmatch(readme, -1) {
		docs, err := Read("README.md", b[1])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, docs)
	}
	if len(out) != 3 {
		t.Fatalf("got %d yaml examples in README.md, want 3", len(out))
	}
	return out
}

// TestREADME loads every example of README.md and checks that it does what
// the text says of it.
func TestREADME(t *testing.T) {
	examples := readmeDocs(t)
	compile := func(t *testing.T, docs []Document) *Set {
		t.Helper()
		set, err := Compile(docs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { set.Close() })
		return set
	}
	t.Run("inline key", func(t *testing.T) {
		set := compile(t, examples[0])
		if set.For("shop", map[string]string{"app": "web"}) != nil {
			t.Error("got a handler for app: web, want none")
		}
		h := set.For("shop", map[string]string{"app": "api"})
		block, _ := pem.Decode([]byte(readmeKey))
		priv, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		k := testKey{alg: jose.ES256, kid: "2026-12", priv: priv}
		c := map[string]any{"iss": "https://login.example.com", "sub": "bob", "aud": "api.shop.example.com", "exp": time.Now().Add(time.Hour).Unix()}
		req, err := run(t, h, "/", bearer(sign(t, k, c, nil)))
		if err != nil || req.Auth == nil || req.Auth.Principal != "https://login.example.com/bob" {
			t.Fatalf("got %v and Auth %+v, want principal https://login.example.com/bob", err, req.Auth)
		}
		c["aud"] = "other"
		if _, err := run(t, h, "/", bearer(sign(t, k, c, nil))); rejection(err) == nil || rejection(err).Status != 403 {
			t.Errorf("got %v for another audience, want 403", err)
		}
	})
	t.Run("custom places", func(t *testing.T) {
		h := compile(t, examples[1]).For("partners", map[string]string{"app": "any"})
		if _, err := run(t, h, "/", http.Header{"X-Partner-Token": {"Token not.a.token"}}); rejection(err) == nil {
			t.Errorf("got %v for a bad token in x-partner-token, want a rejection", err)
		}
		if _, err := run(t, h, "/?token=not.a.token", nil); rejection(err) == nil {
			t.Errorf("got %v for a bad token in ?token, want a rejection", err)
		}
		if _, err := run(t, h, "/", bearer("not.a.token")); err != nil {
			t.Errorf("got %v for a token in Authorization, which the rule does not name, want it to pass", err)
		}
	})
	t.Run("routes file", func(t *testing.T) { readmeRoutes(t, readme(t)) })
	t.Run("root namespace", func(t *testing.T) {
		set := compile(t, examples[2])
		if h := set.For("shop", nil); h == nil || len(h.rules) != 2 {
			t.Fatalf("got handler %v for shop, want both rules", h)
		}
		h := set.For("web", nil)
		if h == nil || len(h.rules) != 1 {
			t.Fatalf("got handler %v for web, want the root namespace's rule", h)
		}
		if _, err := run(t, h, "/", http.Header{"Cookie": {"session=not.a.token"}}); rejection(err) == nil {
			t.Errorf("got %v for a bad token in the session cookie, want a rejection", err)
		}
	})
}
