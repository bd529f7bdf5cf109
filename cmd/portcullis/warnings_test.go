package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/routes"
)

// TestServeWarnsOfExposedAdmin checks the line serve logs at start-up for
// an admin address off loopback (the test binds nothing off loopback, so
// it calls what serve calls), and that a loopback one logs nothing.
func TestServeWarnsOfExposedAdmin(t *testing.T) {
	for _, tt := range []struct {
		addr string
		warn bool
	}{{"0.0.0.0:9901", true}, {":9901", true}, {"127.0.0.1:9901", false}} {
		t.Run(tt.addr, func(t *testing.T) {
			src := "admin: { address: \"" + tt.addr + "\" }\nlisteners: [ { name: web, address: \"127.0.0.1:0\" } ]\n"
			cfg, err := routes.Parse("routes.yaml", []byte(src), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cfg.Close()
			var buf bytes.Buffer
			logWarnings(zerolog.New(&buf), cfg)
			if !tt.warn {
				if buf.Len() != 0 {
					t.Errorf("got %q, want no log line", buf.String())
				}
				return
			}
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("log %q: %v", buf.String(), err)
			}
			msg, _ := line["message"].(string)
			if line["level"] != "warn" || line["config"] != "routes.yaml" || !strings.Contains(msg, "is not a loopback address") {
				t.Errorf("got %v, want a warn line about the admin address", line)
			}
		})
	}
}
