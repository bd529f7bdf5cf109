package authz_test

import (
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/routes"
)

// customPolicy asks provider ext about every request of namespace elsewhere.
const customPolicy = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ask, namespace: elsewhere }
spec:
  action: CUSTOM
  provider: { name: ext }
  rules: [ {} ]
`

// withProviders puts a mesh block of extension providers into routesFile.
func withProviders(providers string) string {
	return strings.Replace(routesFile, "policies:", "mesh:\n  extension_providers:\n"+providers+"policies:", 1)
}

// TestRoutesExtensionProviders: the mesh block's providers load with
// Istio's defaults, a CUSTOM policy loads when its provider is defined, and
// every fault of a provider is reported with the routes file's line.
func TestRoutesExtensionProviders(t *testing.T) {
	good := withProviders("    - { name: ext, envoy_ext_authz_http: { service: other } }\n")
	cfg := loadRoutes(t, good, map[string]string{"custom.yaml": customPolicy, "seed.yaml": seedPolicy})
	p := cfg.File.Mesh.ExtensionProviders[0].HTTP
	if p.StatusOnError != "403" || p.Timeout != routes.Duration(600e9) || p.FailOpen {
		t.Errorf("defaults: got status_on_error %q timeout %v fail_open %v, want Istio's 403, 600s, false", p.StatusOnError, p.Timeout, p.FailOpen)
	}
	cases := []struct {
		name, routes string
		policies     map[string]string
		want         []string
	}{
		{"CUSTOM without its provider", routesFile, map[string]string{"custom.yaml": customPolicy},
			[]string{`policies/custom.yaml:1:1: AuthorizationPolicy elsewhere/ask: provider.name "ext" names no provider of mesh.extension_providers (have: )`}},
		{"another provider", withProviders("    - { name: other, envoy_ext_authz_http: { service: other } }\n"),
			map[string]string{"custom.yaml": customPolicy},
			[]string{`provider.name "ext" names no provider of mesh.extension_providers (have: other)`}},
		{"two providers on a workload", withProviders("    - { name: ext, envoy_ext_authz_http: { service: other } }\n    - { name: two, envoy_ext_authz_http: { service: other } }\n"),
			map[string]string{"custom.yaml": customPolicy, "two.yaml": strings.Replace(strings.Replace(customPolicy, "name: ext", "name: two", 1), "name: ask", "name: ask-two", 1)},
			[]string{`only 1 provider can be used per workload, found multiple providers: [ext two]`}},
		{"faults", withProviders(`    - name: ext
      envoy_ext_authz_http:
        service: missing
        path_prefix: authz
        timeout: -1s
        status_on_error: "forbidden"
        include_request_headers_in_check: [ "x-a", "*", "bad header", "**x" ]
        headers_to_upstream_on_allow: [ "x-user*" ]
        headers_to_downstream_on_deny: [ "" ]
        include_additional_headers_in_check: { "X-Bad\n": "v" }
        include_request_body_in_check: { max_request_bytes: 0 }
    - { name: ext, envoy_ext_authz_http: { service: other, port: 8000, path_prefix: "/a?b" } }
    - { name: "" }
    - { name: grpc, envoy_ext_authz_grpc: { service: other } }
`), nil, []string{
			`routes.yaml:7:18: mesh.extension_providers[0].envoy_ext_authz_http: service: no upstream "missing"`,
			`routes.yaml:8:22: mesh.extension_providers[0].envoy_ext_authz_http: path_prefix: must begin with`,
			`routes.yaml:9:18: mesh.extension_providers[0].envoy_ext_authz_http.timeout: invalid duration "-1s": must not be negative`,
			`routes.yaml:10:26: mesh.extension_providers[0].envoy_ext_authz_http: status_on_error: want an HTTP status 200 to 599, got "forbidden"`,
			`include_request_headers_in_check[1]: want a header name, prefix* or *suffix, got "*"`,
			`include_request_headers_in_check[2]: want a header name, prefix* or *suffix, got "bad header"`,
			`include_request_headers_in_check[3]: want a header name, prefix* or *suffix, got "**x"`,
			`headers_to_downstream_on_deny[0]: want a header name, prefix* or *suffix, got ""`,
			`include_additional_headers_in_check: "X-Bad\n" is not a valid header field`,
			`include_request_body_in_check.max_request_bytes: must be > 0, got 0`,
			`mesh.extension_providers[1]: name: "ext" is defined twice`,
			`mesh.extension_providers[1].envoy_ext_authz_http: path_prefix: must be a path without query`,
			`mesh.extension_providers[1].envoy_ext_authz_http: port: the endpoints of upstream "other" give the port; leave it out`,
			`mesh.extension_providers[2]: name: must not be empty`,
			`mesh.extension_providers[2]: envoy_ext_authz_http: must be set`,
			`mesh.extension_providers[3]: unknown key "envoy_ext_authz_grpc"`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := routes.Load(write(t, c.routes, c.policies), registry(t))
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got\n%v\nwant %q", err, w)
				}
			}
		})
	}
}
