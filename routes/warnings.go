package routes

import "fmt"

// Warnings returns what the file allows but an operator should look at
// twice, one sentence each. They do not stop the file from loading;
// `portcullis validate` prints them and serve logs them at start-up.
func (c *Config) Warnings() []string {
	var out []string
	if w := adminExposure(c.File.Admin.Address); w != "" {
		out = append(out, w)
	}
	return append(out, egressWarnings(c.File)...)
}

// egressWarnings warns about forward_proxy listeners that deny everything
// for want of rules, and rules by identity that no listener can match
// because none verifies callers' certificates.
func egressWarnings(f *File) []string {
	var out []string
	proxies, verified := 0, false
	for _, l := range f.Listeners {
		if l.Kind == "forward_proxy" {
			proxies++
			verified = verified || l.TLS.VerifiesCallers()
		}
	}
	if proxies == 0 {
		return nil
	}
	if f.Egress == nil || len(f.Egress.Rules) == 0 {
		return append(out, "a forward_proxy listener has no egress rules: it refuses every destination")
	}
	for _, r := range f.Egress.Rules {
		if !verified && (len(r.From.Principals) > 0 || len(r.From.Namespaces) > 0) {
			out = append(out, fmt.Sprintf("egress rule %q names principals or namespaces, but no forward_proxy listener "+
				"verifies callers' certificates (tls.client_auth): it matches no caller", r.Name))
		}
	}
	return out
}

// adminExposure warns about an admin address that is not loopback: the
// admin pages have no authentication, and they show the running
// configuration (/config), every upstream endpoint (/upstreams), the
// traffic (/metrics) and the process's memory and goroutines
// (/debug/pprof, whose profiles also cost CPU to take).
func adminExposure(addr string) string {
	if addr == "off" {
		return ""
	}
	ip, _, err := listenAddress(addr)
	if err != nil || ip.IsValid() && ip.IsLoopback() {
		return ""
	}
	return fmt.Sprintf("admin.address %q is not a loopback address: the admin port serves /config, /metrics, "+
		"/upstreams and /debug/pprof without authentication; keep it on 127.0.0.1, "+
		"or behind a network policy that only lets probes and the metrics scraper in", addr)
}
