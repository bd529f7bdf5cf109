package headers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/routes"
)

// badFile is a routes file whose headers block has one error on each of the
// lines that TestRoutesFileErrors expects.
const badFile = `listeners:
  - { name: web, address: "127.0.0.1:0" }
virtual_hosts:
  - name: site
    hosts: ["*"]
    routes:
      - name: all
        upstream: echo
        plugins:
          - headers:
              request:
                remove:
                  - x-ok
                  - "bad name"
                set:
                  host: evil
              response:
                add: { x-a: "a\r\nb" }
upstreams:
  - { name: echo, builtin: echo }
`

// TestRoutesFileErrors checks that the plugin's field errors lead the routes
// file's errors to the line at fault, all of them at once.
func TestRoutesFileErrors(t *testing.T) {
	reg, err := plugins.NewRegistry(headers.Factory())
	if err != nil {
		t.Fatal(err)
	}
	_, err = routes.Parse("routes.yaml", []byte(badFile), reg)
	var errs routes.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got error %v, want routes.Errors", err)
	}
	want := []struct {
		line int
		msg  string
	}{
		{14, `request.remove[1]: header name "bad name" is not a valid HTTP token`},
		{16, `request.set: header "host" cannot be edited`},
		{18, `response.add: header "x-a": value holds a control character other than tab at byte 1`},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors:\n%v\nwant %d", len(errs), errs, len(want))
	}
	for i, w := range want {
		t.Run(w.msg, func(t *testing.T) {
			if e := errs[i]; e.Line != w.line || !strings.Contains(e.Msg, w.msg) {
				t.Errorf("got %v, want line %d and a message with %q", e, w.line, w.msg)
			}
		})
	}
}
