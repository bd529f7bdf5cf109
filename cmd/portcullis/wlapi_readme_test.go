package main

import (
	"testing"

	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

// TestReadmeWorkloadAPIExample loads the README's identity from the
// Workload API: it validates without the agent, which the gateway reaches
// when it starts.
func TestReadmeWorkloadAPIExample(t *testing.T) {
	reg, _ := registry(waf.New(waf.Options{}), authz.New(nil))
	cfg, err := routes.Parse("README.md", readmeYAML(t, "workload-api-example"), reg)
	if err != nil {
		t.Fatalf("README workload API example: %v", err)
	}
	defer cfg.Close()
	if got := cfg.File.Identity.WorkloadAPI.Socket; got != "unix:///run/spire/sockets/agent.sock" || cfg.Identity != nil {
		t.Errorf("README workload API example: got socket %q and identity %v, want the agent's socket and no identity before the gateway reaches it", got, cfg.Identity)
	}
}
