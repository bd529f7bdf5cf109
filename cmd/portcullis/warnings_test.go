package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway"
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

// TestReloadWarnsOfExposedAdmin reloads a file whose admin address is off
// loopback: its warning is logged as at start-up. The address's port is
// held on loopback by the test, so the reload fails at the bind and the
// test binds nothing off loopback.
func TestReloadWarnsOfExposedAdmin(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := func(admin string) *routes.Config {
		cfg, err := routes.Parse("routes.yaml", []byte(fmt.Sprintf(
			"admin: { address: %q }\naccess_log: { path: \"off\" }\nlisteners: [ { name: web, address: \"127.0.0.1:0\" } ]\n", admin)), nil)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	gw, err := gateway.New(file("127.0.0.1:0"), gateway.Options{Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	defer gw.Shutdown(context.Background())
	var buf bytes.Buffer
	apply(zerolog.New(&buf), gw, "routes.yaml", file("0.0.0.0:"+portOf(busy.Addr().String())), nil)
	if !strings.Contains(buf.String(), `"level":"warn"`) || !strings.Contains(buf.String(), "is not a loopback address") {
		t.Errorf("reload log: got %s, want the admin address warning", buf.String())
	}
}
