package ratelimit_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/ratelimit"
	"github.com/portcullis-gw/portcullis/routes"
)

// badValues is a routes file whose rate_limit blocks have errors on the
// lines that TestRoutesFileErrors expects; route "plain" uses the host's.
const badValues = `listeners:
  - { name: web, address: "127.0.0.1:0" }
virtual_hosts:
  - name: site
    hosts: ["*"]
    plugins:
      - rate_limit: { burst: 10 }
    routes:
      - name: api
        match: { path_prefix: /api/ }
        upstream: echo
        plugins:
          - rate_limit:
              per_second: -1
              burst: 0
              key: header:bad name
              max_keys: 0
              ipv6_prefix: 129
      - name: plain
        upstream: echo
upstreams:
  - { name: echo, builtin: echo }
`

// badKey is a routes file with a key the plugin does not know.
const badKey = `listeners:
  - { name: web, address: "127.0.0.1:0" }
virtual_hosts:
  - name: site
    hosts: ["*"]
    routes:
      - name: api
        upstream: echo
        plugins:
          - rate_limit: { per_second: 1, per_client: true }
upstreams:
  - { name: echo, builtin: echo }
`

// line is one expected error: its line and a part of its message.
type line struct {
	n   int
	msg string
}

// TestRoutesFileErrors checks that the plugin's field errors lead the routes
// file's errors to the line at fault, all of them at once.
func TestRoutesFileErrors(t *testing.T) {
	reg, err := plugins.NewRegistry(ratelimit.Factory())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		want []line
	}{
		{"bad values", badValues, []line{
			{14, `route "api": plugins[0] rate_limit: per_second: must be > 0, got -1`},
			{15, "burst: must be >= 1, got 0"},
			{16, `key: header name "bad name" is not a valid HTTP token`},
			{17, "max_keys: must be >= 1, got 0"},
			{18, "ipv6_prefix: must be between 1 and 128, got 129"},
			{7, `virtual host "site": plugins[0] rate_limit: per_second: must be > 0, got 0`},
		}},
		{"unknown key", badKey, []line{{10, `unknown key "per_client"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := routes.Parse("routes.yaml", []byte(tt.file), reg)
			var errs routes.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got error %v, want routes.Errors", err)
			}
			got := make([]line, len(errs))
			for i, e := range errs {
				got[i] = line{e.Line, e.Msg}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors:\n%v\nwant %d", len(errs), errs, len(tt.want))
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(g line) bool { return g.n == w.n && strings.Contains(g.msg, w.msg) }) {
					t.Errorf("got errors:\n%v\nwant one on line %d with %q", errs, w.n, w.msg)
				}
			}
		})
	}
}
