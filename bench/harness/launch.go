package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/portcullis-gw/portcullis/bench/peers"
)

// params fills the peers' template values for one instance.
func (h *harness) params(dir string, a addrs) peers.Params {
	return peers.Params{
		Dir: dir, Listen: a.plain, ListenTLS: a.tls, Upstream: a.upstream, UpstreamTLS: a.upstreamTLS,
		Cert: h.certs.cert, Key: h.certs.key, CertKey: h.certs.both,
		AccessLog: filepath.Join(dir, "access.log"),
		Workers:   h.serverCores(),
		MaxConns:  h.opt.Idle + 1000,
		NoFile:    h.nofile,
		H3:        a.h3,
		Variant:   a.variant,
		Admin:     a.admin,
		WAF:       wafSettings(a.paranoia),
	}
}

// serverCores is the number of cores the servers are given: the worker
// count of every multi-worker peer.
func (h *harness) serverCores() int {
	if !h.pin {
		return runtime.NumCPU()
	}
	return cpuCount(h.opt.ServerCPUs)
}

// writeConfig renders a template into dir/file.
func writeConfig(tmpl, dir, file string, p peers.Params) (string, error) {
	b, err := peers.Render(tmpl, p)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	return path, nil
}

func launchNginx(h *harness, dir string, a addrs) (*process, error) {
	c := h.contender("nginx")
	p := h.params(dir, a)
	p.HTTP2On = c.nginxHTTP2On
	conf, err := writeConfig(c.tmpl, dir, c.conf, p)
	if err != nil {
		return nil, err
	}
	return h.start("nginx", dir, []string{c.bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log")}, nil, "")
}

func launchHAProxy(h *harness, dir string, a addrs) (*process, error) {
	c := h.contender("haproxy")
	p := h.params(dir, a)
	conf, err := writeConfig(c.tmpl, dir, c.conf, p)
	if err != nil {
		return nil, err
	}
	argv := []string{c.bin, "-db", "-f", conf}
	if a.variant != "" {
		// Master-worker mode, as systemd runs it: the master reloads on
		// SIGUSR2, starting a new worker and letting the old one finish.
		argv = []string{c.bin, "-W", "-db", "-f", conf}
	}
	// HAProxy logs to stdout (it has no file logging), so stdout is the
	// access log.
	return h.start("haproxy", dir, argv, nil, p.AccessLog)
}

func launchCaddy(h *harness, dir string, a addrs) (*process, error) {
	c := h.contender("caddy")
	conf, err := writeConfig(c.tmpl, dir, c.conf, h.params(dir, a))
	if err != nil {
		return nil, err
	}
	env := []string{"HOME=" + dir, "XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
	argv := []string{c.bin, "run", "--config", conf, "--adapter", "caddyfile"}
	return h.start("caddy", dir, argv, env, "")
}

func launchGateway(h *harness, dir string, a addrs) (*process, error) {
	c := h.contender("portcullis")
	tmpl := c.tmpl
	if a.upstreamTLS != "" {
		tmpl = peers.PortcullisEgress
	}
	conf, err := writeConfig(tmpl, dir, c.conf, h.params(dir, a))
	if err != nil {
		return nil, err
	}
	return h.start("portcullis", dir, []string{c.bin, "--config", conf}, nil, "")
}

func launchBareproxy(h *harness, dir string, a addrs) (*process, error) {
	argv := []string{h.bins.bareproxy, "-upstream", "http://" + a.upstream, "-addr", a.plain, "-tls-addr", a.tls,
		"-cert", h.certs.cert, "-key", h.certs.key, "-access-log", filepath.Join(dir, "access.log")}
	if a.h3 {
		argv = append(argv, "-h3")
	}
	return h.start("bareproxy", dir, argv, nil, "")
}

// launchBackend starts the backend: the upstream of every proxy and the
// backend-alone contender.
func (h *harness) launchBackend(dir string, a addrs) (*process, error) {
	argv := []string{h.bins.backend, "-addr", a.plain, "-tls-addr", a.tls, "-cert", h.certs.cert, "-key", h.certs.key, "-h3"}
	return h.start("backend", dir, argv, nil, "")
}

// contender returns the named contender.
func (h *harness) contender(name string) *contender {
	for _, c := range h.contenders {
		if c.name == name {
			return c
		}
	}
	return &contender{name: name}
}
