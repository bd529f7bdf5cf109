package admin

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/routes"
)

const pemKey = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"

// roundTrip renders Redact's output as /config does and decodes it again,
// so that cases compare plain JSON values.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(Redact(v))
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return out
}

func TestRedact(t *testing.T) {
	type obj = map[string]any
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"key path stays", routes.CertKey{Cert: "tls/edge.crt", Key: "/etc/tls/edge.key"},
			obj{"cert": "tls/edge.crt", "key": "/etc/tls/edge.key"}},
		{"inline pem key", routes.CertKey{Cert: "tls/edge.crt", Key: pemKey},
			obj{"cert": "tls/edge.crt", "key": Redacted}},
		{"pem under any key", obj{"bundle": pemKey, "note": "x-----BEGIN y"}, obj{"bundle": Redacted, "note": Redacted}},
		{"rate limit key stays", obj{"rate_limit": obj{"key": "remote_ip", "per_second": 100}},
			obj{"rate_limit": obj{"key": "remote_ip", "per_second": 100.0}}},
		{"secret names", obj{"password": "p", "Secret": "s", "TOKEN": "t", "private_key": "k", "api-key": "a", "Authorization": "Bearer x"},
			obj{"password": Redacted, "Secret": Redacted, "TOKEN": Redacted, "private_key": Redacted, "api-key": Redacted, "Authorization": Redacted}},
		{"secret suffixes", obj{"client_secret": "s", "bearer_token": "t", "admin_password": "p", "clientSecret": "c", "db-passwd": "d"},
			obj{"client_secret": Redacted, "bearer_token": Redacted, "admin_password": Redacted, "clientSecret": Redacted, "db-passwd": Redacted}},
		{"lookalikes stay", obj{"tokens_per_second": 5, "secret_file": "/run/s", "password_file": "/run/p", "keyring": "k", "token_header": "Authorization"},
			obj{"tokens_per_second": 5.0, "secret_file": "/run/s", "password_file": "/run/p", "keyring": "k", "token_header": "Authorization"}},
		{"header names", obj{"x-api-key": "k", "Cookie": "c", "set-cookie": "s", "proxy-authorization": "p", "x-auth-token": "t", "aws_credentials": "a", "x-env": "prod"},
			obj{"x-api-key": Redacted, "Cookie": Redacted, "set-cookie": Redacted, "proxy-authorization": Redacted, "x-auth-token": Redacted, "aws_credentials": Redacted, "x-env": "prod"}},
		{"match on a secret header", []any{obj{"name": "X-Api-Key", "exact": "k"}, obj{"name": "authorization", "prefix": "Bearer ", "invert": true}, obj{"name": "x-env", "exact": "prod"}},
			[]any{obj{"name": "X-Api-Key", "exact": Redacted}, obj{"name": "authorization", "prefix": Redacted, "invert": true}, obj{"name": "x-env", "exact": "prod"}}},
		{"name under a secret stays hidden", obj{"secret": obj{"name": "cookie", "value": "v"}}, obj{"secret": obj{"name": Redacted, "value": Redacted}}},
		{"number under secret", obj{"pin_secret": 1234}, obj{"pin_secret": Redacted}},
		{"nested under secret", obj{"secret": obj{"value": "v", "enabled": true, "list": []any{"a", 1}}},
			obj{"secret": obj{"value": Redacted, "enabled": true, "list": []any{Redacted, Redacted}}}},
		{"empty secret stays", obj{"token": ""}, obj{"token": ""}},
		{"null secret stays", obj{"token": nil}, obj{"token": nil}},
		{"secrets in a list", []any{obj{"name": "a", "token": "t1"}, obj{"name": "b", "token": "t2"}},
			[]any{obj{"name": "a", "token": Redacted}, obj{"name": "b", "token": Redacted}}},
		{"unmarshalable", obj{"ch": make(chan int)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := roundTrip(t, tt.in)
			if tt.want == nil {
				m, ok := got.(map[string]any)
				if !ok || m["error"] == nil || len(m) != 1 {
					t.Errorf("got %v, want only an error object", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestRedactLeavesInputAlone(t *testing.T) {
	in := map[string]any{"token": "t", "nested": map[string]any{"password": "p"}}
	_ = Redact(in)
	if in["token"] != "t" || in["nested"].(map[string]any)["password"] != "p" {
		t.Errorf("got input %v after Redact, want it unchanged", in)
	}
}

func TestRedactKeepsNumbers(t *testing.T) {
	b, err := json.Marshal(Redact(map[string]int64{"max_body": 1 << 62}))
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if got, want := string(b), `{"max_body":4611686018427387904}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// FuzzRedact checks, for any JSON document, that no PEM survives and that
// every non-empty scalar under a secret key is redacted.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		`{"key":"/etc/tls/a.key"}`,
		`{"tls":{"key":"-----BEGIN EC PRIVATE KEY-----\nAA==\n-----END EC PRIVATE KEY-----"}}`,
		`{"Client-Secret":{"a":[1,"b",{"c":"d"}]}}`,
		`[{"token":"x"},{"tokens":3}]`,
		`{"a":"\u002d----BEGIN"}`,
		`"-----BEGIN"`,
		`{"password":null,"secret":true,"api_key":1e400}`,
		`[{"name":"x-api-key","exact":"k"},{"name":"Set-Cookie","value":["a",{"b":"c"}]}]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var in any
		if json.Unmarshal([]byte(doc), &in) != nil {
			return
		}
		out := Redact(in)
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("Redact(%s) does not marshal: %v", doc, err)
		}
		check(t, doc, out, false)
	})
}

// check walks Redact's output and fails on a leaked value.
func check(t *testing.T, doc string, v any, secret bool) {
	switch x := v.(type) {
	case map[string]any:
		name, _ := x["name"].(string)
		named := name != "" && name != Redacted && secretKey(name)
		for k, e := range x {
			check(t, doc, e, secret || secretKey(k) || named && k != "name")
		}
	case []any:
		for _, e := range x {
			check(t, doc, e, secret)
		}
	case string:
		if strings.Contains(x, "-----BEGIN") || secret && x != "" && x != Redacted {
			t.Fatalf("Redact(%s): got %q left visible", doc, x)
		}
	case json.Number:
		if secret {
			t.Fatalf("Redact(%s): got number %s left visible", doc, x)
		}
	}
}
