package harness

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// binaries are the programs the harness runs.
type binaries struct {
	load, backend, bareproxy string
	// gateway is empty when the gateway does not build; gatewayErr says why.
	gateway, gatewayErr string
}

// build compiles the bench's own programs and the gateway into dir. The
// bench's programs must build; the gateway may not yet, and then it is
// skipped with the compiler's first line as the reason.
func build(ctx context.Context, repo, dir string) (binaries, error) {
	b := binaries{
		load:      filepath.Join(dir, "load"),
		backend:   filepath.Join(dir, "backend"),
		bareproxy: filepath.Join(dir, "bareproxy"),
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", dir+"/",
		"./bench/cmd/load", "./bench/cmd/backend", "./bench/cmd/bareproxy")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return b, fmt.Errorf("building the bench programs: %w: %s", err, strings.TrimSpace(string(out)))
	}
	gw := filepath.Join(dir, "portcullis")
	cmd = exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", gw, "./cmd/portcullis")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		first := strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0]
		if first == "" {
			first = err.Error()
		}
		b.gatewayErr = "does not build yet: " + first
		return b, nil
	}
	b.gateway = gw
	return b, nil
}
