package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/routes"
)

// vaultConfig is a third-party plugin's config with secrets of every shape:
// tagged fields (a string, a number, a list, a nested block) and untagged
// ones whose names alone say they are secret.
type vaultConfig struct {
	Endpoint string   `yaml:"endpoint"`
	Password string   `yaml:"password" secret:"true"`
	PIN      int      `yaml:"pin" secret:"true"`
	Keys     []string `yaml:"keys" secret:"true"`
	Login    struct {
		User string `yaml:"user"`
		Pass string `yaml:"pass"`
	} `yaml:"login" secret:"true"`
	APIKey string `yaml:"x-api-key"` // untagged: caught by its name
}

type vaultHandler struct{}

func (vaultHandler) HandleRequest(context.Context, *plugins.Request) error { return nil }

func vaultFactory() plugins.Factory {
	return passFactory("vault", func() any { return new(vaultConfig) })
}

// passFactory is a plugin named name, configured by what config makes,
// that lets every request through.
func passFactory(name string, config func() any) plugins.Factory {
	return plugins.Factory{
		Name:   name,
		Config: config,
		Build:  func(any) (plugins.Handler, error) { return vaultHandler{}, nil },
	}
}

// secretsYAML is a routes file that puts a secret everywhere an operator
// might: header values the headers plugin sets on a host, a route and a
// response, a header match on an API key, a direct response's cookie and a
// body holding a private key, and a third-party plugin's fields.
const secretsYAML = `
admin: { address: "127.0.0.1:0" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - name: api
    hosts: ["*"]
    plugins:
      - headers: { request: { set: { x-api-key: S1-host-api-key, cookie: "session=S2-cookie" } } }
    routes:
      - name: keyed
        match: { path_prefix: /keyed, headers: [ { name: x-api-key, exact: S3-match-key }, { name: authorization, prefix: "Bearer S4" } ] }
        upstream: echo
        plugins:
          - headers:
              request: { set: { x-upstream-token: S5-token, x-env: S6-plain-looking }, add: { x-trace: S7-add } }
              response: { set: { set-cookie: "id=S8-resp-cookie" } }
          - vault:
              endpoint: https://vault.internal
              password: S9-password
              pin: 424242
              keys: [ S10-key-a, S11-key-b ]
              login: { user: S12-user, pass: S13-pass }
              x-api-key: S14-untagged
      - name: fixed
        match: { path: /fixed }
        direct_response:
          status: 200
          body: "-----BEGIN PRIVATE KEY-----\nS15-pem-body\n-----END PRIVATE KEY-----\n"
          headers: { set-cookie: "sid=S16-direct-cookie", x-fine: visible }
upstreams: [ { name: echo, builtin: echo } ]
`

// TestConfigPageHidesSecrets reads /config over the admin socket and finds
// none of the routes file's secrets in it, while the names that say which
// headers are set stay visible; a failed reload whose file holds a secret
// does not show it either.
func TestConfigPageHidesSecrets(t *testing.T) {
	tg := startGateway(t, secretsYAML, vaultFactory())
	admin := "http://" + tg.AdminAddr().String() + "/config"
	page := getConfigPage(t, admin)
	for _, secret := range []string{"S1-", "S2-", "S3-", "S4", "S5-", "S6-", "S7-", "S8-", "S9-", "424242",
		"S10-", "S11-", "S12-", "S13-", "S14-", "S15-", "S16-", "PRIVATE KEY"} {
		if strings.Contains(page, secret) {
			t.Errorf("/config shows %q:\n%s", secret, page)
		}
	}
	for _, visible := range []string{`"X-Api-Key"`, `"x-api-key"`, `"cookie"`, `"x-upstream-token"`, `"set-cookie"`,
		`"https://vault.internal"`, `"x-fine": "visible"`, `"name": "authorization"`, `"endpoint"`} {
		if !strings.Contains(page, visible) && !strings.Contains(page, strings.ToLower(visible)) {
			t.Errorf("/config lacks %s:\n%s", visible, page)
		}
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(page), &doc); err != nil {
		t.Fatalf("/config is not JSON: %v", err)
	}

	// A reload refused for a header value with a control character: the
	// error names the header and the byte, never the value.
	bad := strings.Replace(secretsYAML, "S6-plain-looking", `"S17-bad\u0001value"`, 1)
	reg, err := plugins.NewRegistry(headers.Factory(), vaultFactory())
	if err != nil {
		t.Fatal(err)
	}
	_, err = routes.Parse(filepath.Join(t.TempDir(), "routes.yaml"), []byte(bad), reg)
	if err == nil {
		t.Fatal("routes file with a control character in a header value loaded")
	}
	tg.ReloadFailed("routes.yaml", err)
	page = getConfigPage(t, admin)
	if !strings.Contains(page, "control character") {
		t.Errorf("/config lacks the failed reload's error:\n%s", page)
	}
	if strings.Contains(page, "S17-") {
		t.Errorf("/config shows the refused file's secret:\n%s", page)
	}
}

func getConfigPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// TestSecretFieldErrorsQuoteNothing loads files whose secret fields hold
// values of the wrong shape: every error names the field, none quotes the
// value, and an unknown key beneath a secret field is still named.
func TestSecretFieldErrorsQuoteNothing(t *testing.T) {
	reg, err := plugins.NewRegistry(headers.Factory(), vaultFactory())
	if err != nil {
		t.Fatal(err)
	}
	head := "listeners: [ { name: web, address: \"127.0.0.1:0\" } ]\nvirtual_hosts:\n  - name: v\n    hosts: [\"*\"]\n    routes:\n      - name: r\n        direct_response: { status: 204 }\n        plugins:\n"
	tests := []struct {
		name, plugin, want string
	}{
		{"string for a map", `          - headers: { request: { set: "S1-sk-live" } }`, `request.set: not a valid value here`},
		{"list for a string", `          - vault: { password: [S2-a, S2-b] }`, `password: expected a string, got a list`},
		{"text for a number", `          - vault: { pin: S3-pin }`, `pin: not a valid value here`},
		{"number out of range", `          - vault: { pin: 99999999999999999999999999 }`, `pin: not a valid value here`},
		{"mapping in a list", `          - vault: { keys: [ { S4-k: v } ] }`, `keys[0]: expected a string, got a mapping`},
		{"unknown key in a secret block", `          - vault: { login: { S5-nokey: x } }`, `login: unknown key "S5-nokey"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := routes.Parse("routes.yaml", []byte(head+tt.plugin+"\n"), reg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			for _, secret := range []string{"S1-", "S2-", "S3-", "S4-", "999999"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes the secret %q", err, secret)
				}
			}
		})
	}
}
