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
