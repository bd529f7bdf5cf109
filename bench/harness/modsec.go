package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/portcullis-gw/portcullis/bench/peers"
)

// crsModule is the Go module the gateway embeds the CRS v4 from; nginx's
// ModSecurity runs the same release, copied out of it.
const crsModule = "github.com/corazawaf/coraza-coreruleset/v4"

// Debian's ModSecurity module for nginx and its CRS 3, and the packages
// that install them.
const (
	modsecPackage    = "libnginx-mod-http-modsecurity"
	modsecModule     = "ngx_http_modsecurity_module.so"
	crs3Package      = "modsecurity-crs"
	crs3Setup        = "/etc/modsecurity/crs/crs-setup.conf"
	crs3Rules        = "/usr/share/modsecurity-crs/rules"
	modsecUnicodeMap = "/etc/nginx/unicode.mapping"
)

// earlyBlocking is the chained rule of REQUEST-949 and RESPONSE-959 that
// has no action list: libmodsecurity 3.0.9 misreads it, so the copy gives
// it one that changes nothing.
var earlyBlocking = regexp.MustCompile(`(?m)^(\s*SecRule TX:EARLY_BLOCKING "@eq 1")[ \t]*$`)

// copyCRS4 copies the CRS v4 rules the gateway embeds (the module's
// version in go.mod) into dir, with crs-setup.conf from its example and
// the early-blocking rules given an action list, and returns the CRS's
// version.
func copyCRS4(ctx context.Context, repo, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", crsModule)
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("finding %s: %w", crsModule, err)
	}
	modDir, modVersion, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	src := filepath.Join(modDir, "rules", "@owasp_crs")
	entries, err := os.ReadDir(src)
	if err != nil {
		return "", fmt.Errorf("the CRS of %s: %w", crsModule, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		return "", err
	}
	patched := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".conf") || strings.HasSuffix(name, ".data")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return "", err
		}
		if strings.HasSuffix(name, ".conf") {
			n := len(earlyBlocking.FindAllIndex(b, -1))
			b = earlyBlocking.ReplaceAll(b, []byte(`$1 "t:none"`))
			patched += n
		}
		if err := os.WriteFile(filepath.Join(dir, "rules", name), b, 0o644); err != nil {
			return "", err
		}
	}
	if patched != 2 {
		return "", fmt.Errorf("the CRS of %s %s: found %d chained TX:EARLY_BLOCKING rules without actions, want the 2 of REQUEST-949 and RESPONSE-959", crsModule, modVersion, patched)
	}
	setup, err := os.ReadFile(filepath.Join(modDir, "rules", "@crs-setup.conf.example"))
	if err != nil {
		return "", fmt.Errorf("the CRS setup of %s: %w", crsModule, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "crs-setup.conf"), setup, 0o644); err != nil {
		return "", err
	}
	return crsVersion(filepath.Join(dir, "rules", "REQUEST-901-INITIALIZATION.conf")) + " (" + crsModule + " " + modVersion + ")", nil
}

var crsVer = regexp.MustCompile(`ver:'OWASP_CRS/(\d+\.\d+\.\d+)'`)

// crsVersion reads the CRS's version from one of its rule files.
func crsVersion(file string) string {
	b, _ := os.ReadFile(file)
	if m := crsVer.FindSubmatch(b); m != nil {
		return "CRS " + string(m[1])
	}
	return "CRS of unknown version"
}

// detectModsec finds nginx with Debian's ModSecurity module, for the CRS
// v4 copied into crs4 (crs4Version names it, crs4Err says why there is
// none) or, with crs3, for Debian's CRS 3.
func detectModsec(crs3 bool, crs4, crs4Version, crs4Err string) *contender {
	c := &contender{name: "nginx-modsec", noH3: "this nginx is built without http_v3_module",
		tmpl: peers.Nginx, conf: "nginx.conf", waf: true, wafOnly: true}
	c.launch = func(h *harness, dir string, a addrs) (*process, error) { return launchModsec(h, c, dir, a) }
	if crs3 {
		c.name = "nginx-modsec-crs3"
	}
	nginx := detectNginx()
	if nginx.missing != "" {
		c.missing = nginx.missing
		return c
	}
	c.bin, c.nginxHTTP2On = nginx.bin, nginx.nginxHTTP2On
	c.wafModule = filepath.Join(modulesPath(run(c.bin, "-V")), modsecModule)
	if _, err := os.Stat(c.wafModule); err != nil {
		c.missing = fmt.Sprintf("nginx's ModSecurity module is not installed (package %s; task bench:peers installs it)", modsecPackage)
		return c
	}
	rules := "the CRS v4 copied from " + crsModule
	switch {
	case crs3:
		c.crsSetup, c.crsRules = crs3Setup, filepath.Join(crs3Rules, "*.conf")
		if _, err := os.Stat(crs3Setup); err != nil {
			c.missing = fmt.Sprintf("Debian's CRS 3 is not installed (package %s; task bench:peers installs it)", crs3Package)
			return c
		}
		rules = crsVersion(filepath.Join(crs3Rules, "REQUEST-901-INITIALIZATION.conf")) + " (Debian's " + crs3Package + ")"
	case crs4Err != "":
		c.missing = crs4Err
		return c
	default:
		c.crsSetup, c.crsRules, rules = filepath.Join(crs4, "crs-setup.conf"), filepath.Join(crs4, "rules", "*.conf"), crs4Version
	}
	c.version = fmt.Sprintf("%s, %s %s, libmodsecurity3 %s, %s", nginx.version, modsecPackage,
		debVersion(modsecPackage), debVersion("libmodsecurity3"), rules)
	return c
}

var modulesFlag = regexp.MustCompile(`--modules-path=(\S+)`)

// modulesPath is where nginx -V says its modules are.
func modulesPath(v string) string {
	if m := modulesFlag.FindStringSubmatch(v); m != nil {
		return m[1]
	}
	return "/usr/lib/nginx/modules"
}

// debVersion is an installed Debian package's version, or "?".
func debVersion(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", pkg).Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		return "?"
	}
	return string(bytes.TrimSpace(out))
}

// launchModsec starts nginx with ModSecurity: its ModSecurity
// configuration, then nginx's own, both in dir.
func launchModsec(h *harness, c *contender, dir string, a addrs) (*process, error) {
	p := h.params(dir, a)
	if p.WAF == nil {
		return nil, fmt.Errorf("%s runs the WAF scenarios only", c.name)
	}
	p.HTTP2On = c.nginxHTTP2On
	p.WAF.Module, p.WAF.CRSSetup, p.WAF.CRSRules, p.WAF.CRS3 = c.wafModule, c.crsSetup, c.crsRules, c.name == "nginx-modsec-crs3"
	if _, err := os.Stat(modsecUnicodeMap); err == nil {
		p.WAF.UnicodeMap = modsecUnicodeMap
	}
	rules, err := writeConfig(peers.ModSecurity, dir, "modsecurity.conf", p)
	if err != nil {
		return nil, err
	}
	p.WAF.RulesFile = rules
	conf, err := writeConfig(c.tmpl, dir, c.conf, p)
	if err != nil {
		return nil, err
	}
	return h.start(c.name, dir, []string{c.bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log")}, nil, "")
}
