package harness

import (
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/portcullis-gw/portcullis/bench/peers"
	"github.com/portcullis-gw/portcullis/bench/report"
)

// contender is one server the bench compares.
type contender struct {
	name, version string
	// missing says why it cannot run at all: not installed, does not build.
	missing string
	// h3 says whether it serves HTTP/3; noH3 why not.
	h3   bool
	noH3 string
	// launch writes its configuration into dir and starts it in front of the
	// backend; nil for the backend alone, which is the backend process.
	launch func(h *harness, dir string, a addrs) (*process, error)
	// bin is the program; nginxHTTP2On selects nginx's newer http2 syntax.
	bin          string
	nginxHTTP2On bool
	// tmpl is the template of its configuration and conf the file it is
	// rendered to in the instance's directory; empty for the programs that
	// take flags.
	tmpl, conf string
	// reloadSig is the signal that makes its leader reload the rewritten
	// file; reloadAPI says it reloads through its admin API instead
	// (Caddy). With neither it has no configuration to reload.
	reloadSig syscall.Signal
	reloadAPI bool
	// waf says it runs the WAF scenarios, wafOnly that it runs nothing
	// else (nginx with ModSecurity); the others sit them out unlisted.
	waf, wafOnly bool
	// wafModule is nginx's ModSecurity module; crsSetup and crsRules the
	// CRS's setup file and rules (a glob) it runs.
	wafModule, crsSetup, crsRules string
	// egress says it runs the egress scenarios (a forward proxy, or the
	// backend reached directly), egressOnly that it runs nothing else.
	egress, egressOnly bool
}

// runs says whether the contender takes part in the scenario at all: the
// WAF scenarios are for the contenders with a WAF, and those that exist
// for them sit the others out.
func (c *contender) runs(sc scenario) bool {
	switch {
	case sc.waf != nil:
		return c.waf
	case sc.egress:
		return c.egress
	}
	return !c.wafOnly && !c.egressOnly
}

// reloads says whether the contender can run the reload scenario.
func (c *contender) reloads() bool { return c.reloadSig != 0 || c.reloadAPI }

// addrs are one server's listening addresses and its upstream.
type addrs struct {
	plain, tls, upstream string
	h3                   bool
	// paranoia is the CRS's paranoia level in a WAF scenario; zero
	// elsewhere.
	paranoia int
	// variant is the configuration variant in the reload scenario, and
	// admin Caddy's admin address there; both empty elsewhere.
	variant, admin string
	// upstreamTLS is the backend's TLS address, which the egress
	// scenarios' tunnels reach.
	upstreamTLS string
}

// contenderOrder is the order contenders run in each round and appear in
// the report: the baseline first, then the gateway, then its peers.
var contenderOrder = []string{"backend", "portcullis", "nginx", "nginx-modsec", "nginx-modsec-crs3", "squid", "haproxy", "caddy", "bareproxy"}

// find builds the contenders asked for, noting those that cannot run.
// nginx with ModSecurity is looked for only when a WAF scenario runs.
func (h *harness) find(scs []scenario) []*contender {
	all := map[string]*contender{
		"backend":   {name: "backend", version: "bench/cmd/backend, " + goVersion(), h3: true, egress: true},
		"bareproxy": {name: "bareproxy", version: "httputil.ReverseProxy, " + goVersion(), h3: true, bin: h.bins.bareproxy, launch: launchBareproxy},
		"portcullis": {name: "portcullis", h3: true, bin: h.bins.gateway, missing: h.bins.gatewayErr,
			launch: launchGateway, tmpl: peers.Portcullis, conf: "routes.yaml", reloadSig: syscall.SIGHUP, waf: true, egress: true},
		"nginx":   detectNginx(),
		"haproxy": detectHAProxy(),
		"caddy":   detectCaddy(),
	}
	if slices.ContainsFunc(scs, func(sc scenario) bool { return sc.waf != nil && sc.missing == "" }) {
		all["nginx-modsec"] = detectModsec(false, h.crs4, h.crs4Version, h.crs4Err)
		all["nginx-modsec-crs3"] = detectModsec(true, "", "", "")
		if len(h.opt.Contenders) == 0 || slices.Contains(h.opt.Contenders, "caddy") {
			h.notef("caddy with coraza-caddy is not run in the WAF scenarios: Debian has no Caddy built with it, and the bench runs the peers as Debian packages them")
		}
	}
	if slices.ContainsFunc(scs, func(sc scenario) bool { return sc.egress }) {
		all["squid"] = detectSquid()
	}
	if g := all["portcullis"]; g.missing == "" {
		g.version = firstLine(run(g.bin, "version")) + checkout(h.opt.Repo)
	}
	var out []*contender
	for _, name := range contenderOrder {
		if len(h.opt.Contenders) > 0 && !slices.Contains(h.opt.Contenders, name) {
			continue
		}
		c, ok := all[name]
		if !ok {
			continue
		}
		if c.missing != "" {
			h.notef("%s is not run: %s", name, c.missing)
		}
		out = append(out, c)
	}
	return out
}

func detectNginx() *contender {
	c := &contender{name: "nginx", launch: launchNginx, noH3: "this nginx is built without http_v3_module",
		tmpl: peers.Nginx, conf: "nginx.conf", reloadSig: syscall.SIGHUP}
	if c.bin = lookPath("nginx"); c.bin == "" {
		c.missing = "not installed (task bench:peers installs it)"
		return c
	}
	v := strings.TrimPrefix(firstLine(run(c.bin, "-v")), "nginx version: ")
	c.version = v
	c.h3 = strings.Contains(run(c.bin, "-V"), "--with-http_v3_module")
	c.nginxHTTP2On = versionAtLeast(v, 1, 25, 1)
	return c
}

func detectHAProxy() *contender {
	// In master-worker mode (-W, which the reload scenario uses) the
	// master reloads on SIGUSR2.
	c := &contender{name: "haproxy", launch: launchHAProxy, noH3: "this HAProxy is built without QUIC",
		tmpl: peers.HAProxy, conf: "haproxy.cfg", reloadSig: syscall.SIGUSR2}
	if c.bin = lookPath("haproxy"); c.bin == "" {
		c.missing = "not installed (task bench:peers installs it)"
		return c
	}
	c.version = firstLine(run(c.bin, "-v"))
	c.h3 = strings.Contains(run(c.bin, "-vv"), "+QUIC")
	return c
}

// detectSquid finds squid, the forward proxy of the egress scenarios.
func detectSquid() *contender {
	c := &contender{name: "squid", launch: launchSquid, tmpl: peers.Squid, conf: "squid.conf", egress: true, egressOnly: true,
		noH3: "a forward proxy"}
	if c.bin = lookPath("squid"); c.bin == "" {
		c.missing = "not installed (package squid; task bench:peers installs it)"
		return c
	}
	c.version = firstLine(run(c.bin, "-v"))
	return c
}

func detectCaddy() *contender {
	c := &contender{name: "caddy", launch: launchCaddy, h3: true, tmpl: peers.Caddy, conf: "Caddyfile", reloadAPI: true}
	if c.bin = lookPath("caddy"); c.bin == "" {
		c.missing = "not installed (task bench:peers installs it)"
		return c
	}
	c.version = firstLine(run(c.bin, "version"))
	return c
}

// versions lists every contender's and cross-check tool's version.
func (h *harness) versions() []report.Version {
	var out []report.Version
	for _, c := range h.contenders {
		if c.missing == "" {
			out = append(out, report.Version{Name: c.name, Version: c.version})
		}
	}
	if h.opt.CrossCheck {
		if p := lookPath("wrk"); p != "" {
			out = append(out, report.Version{Name: "wrk", Version: firstLine(run(p, "-v"))})
		}
		if p := lookPath("h2load"); p != "" {
			out = append(out, report.Version{Name: "h2load", Version: firstLine(run(p, "--version"))})
		}
	}
	return out
}

// checkout names the commit the gateway was built from, and whether the
// work tree had changes on top of it, so a report can be traced to code.
func checkout(repo string) string {
	out, err := exec.Command("git", "-C", repo, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	s := ", commit " + strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", repo, "status", "--porcelain").Output(); err == nil && len(st) > 0 {
		s += " with uncommitted changes"
	}
	return s
}

// lookPath finds a program on PATH or in the sbin directories, where
// Debian puts nginx and HAProxy but a user's PATH may not look.
func lookPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		if p, err := exec.LookPath(dir + "/" + name); err == nil {
			return p
		}
	}
	return ""
}

// run returns a command's combined output, whatever its exit status (wrk
// -v exits 1 after printing its version).
func run(bin string, args ...string) string {
	out, _ := exec.Command(bin, args...).CombinedOutput()
	return string(out)
}

func firstLine(s string) string {
	return strings.TrimSpace(strings.SplitN(strings.TrimSpace(s), "\n", 2)[0])
}

var dotted = regexp.MustCompile(`(\d+)\.(\d+)\.(\d+)`)

// versionAtLeast compares the first x.y.z in s with the one given.
func versionAtLeast(s string, major, minor, patch int) bool {
	m := dotted.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	var v [3]int
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return slices.Compare(v[:], []int{major, minor, patch}) >= 0
}

// goVersion is the Go that built the bench's own programs: the one
// running the harness.
func goVersion() string { return runtime.Version() }
