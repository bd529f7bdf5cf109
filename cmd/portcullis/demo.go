package main

import (
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// The demo's mesh: its trust domain, the gateway's SPIFFE ID, and the one a
// newcomer issues to call it.
var (
	demoTrustDomain = spiffeid.RequireTrustDomainFromString("cluster.local")
	demoGatewayID   = spiffeid.RequireFromPath(demoTrustDomain, "/ns/demo/sa/gateway")
	demoClientID    = spiffeid.RequireFromPath(demoTrustDomain, "/ns/allowed-namespace/sa/client")
)

// demoPolicies are the demo's AuthorizationPolicy documents, written into
// the state directory's policies folder at each start.
//
//go:embed demo-policies.yaml
var demoPolicies []byte

// demoSVIDMargin is how long the gateway's SVID must still be valid to be
// reused at start; an older one is issued again.
const demoSVIDMargin = time.Hour

// defaultStateDir is where the demo keeps its development CA unless
// --state-dir says otherwise: portcullis in the user's cache directory, or
// "" when there is none.
func defaultStateDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "portcullis")
}

// demoConfig is the embedded demo for a state directory prepared by
// prepareDemoState, or without its mesh listener and identity when dir is
// "".
func demoConfig(dir string) []byte { return renderDemo(demoYAML, dir) }

// renderDemo is demoConfig for the demo text demo.
func renderDemo(demo []byte, dir string) []byte {
	if dir == "" {
		var kept []string
		skip := false
		for _, line := range strings.SplitAfter(string(demo), "\n") {
			switch strings.TrimSpace(line) {
			case "# mesh {":
				skip = true
			case "# mesh }":
				skip = false
			default:
				if !skip {
					kept = append(kept, line)
				}
			}
		}
		return []byte(strings.Join(kept, ""))
	}
	// The paths stand in double-quoted YAML strings, whose escapes JSON's
	// are a subset of.
	quote := func(s string) string { q, _ := json.Marshal(s); return string(q[1 : len(q)-1]) }
	dir = filepath.ToSlash(dir)
	glob := strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(dir)
	return []byte(strings.NewReplacer("STATE_DIR", quote(dir), "STATE_GLOB", quote(glob)).Replace(string(demo)))
}

// prepareDemoState makes dir (0700) with a development CA for cluster.local
// and the gateway's SVID issued by it, keeping either when it is already
// there and still good. It returns what it made.
func prepareDemoState(dir string) (made []string, err error) {
	if !utf8.ValidString(dir) {
		// The paths go into the demo's YAML, which is Unicode text: a
		// name that is not UTF-8 would reach it changed.
		return nil, fmt.Errorf("the state directory %q is not valid UTF-8, which the demo's routes file cannot hold; choose another --state-dir", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ca, err := devca.Load(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if ca, err = devca.New(demoTrustDomain, 0); err != nil {
			return nil, err
		}
		if made, err = ca.Save(dir); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "policies"), 0o700); err != nil {
		return nil, err
	}
	policies := filepath.Join(dir, "policies", "demo.yaml")
	if err := os.WriteFile(policies, demoPolicies, 0o600); err != nil {
		return nil, err
	}
	made = append(made, policies)
	svidDir := filepath.Join(dir, svidDirName(demoGatewayID))
	if demoSVIDGood(svidDir, ca) {
		return made, nil
	}
	svid, err := ca.Issue(demoGatewayID, devca.IssueOptions{
		DNSNames: []string{"localhost"},
		// The CA's life: a demo left running never sees its SVID expire.
		TTL:  time.Until(ca.Cert.NotAfter),
		Edit: func(c *x509.Certificate) { c.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)} },
	})
	if err != nil {
		return nil, err
	}
	paths, err := devca.WriteSVID(svidDir, svid, ca.BundlePEM())
	return append(made, paths...), err
}

// demoSVIDGood reports whether dir holds an SVID and key that ca issued and
// that stay valid for demoSVIDMargin.
func demoSVIDGood(dir string, ca *devca.CA) bool {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, devca.CertFile), filepath.Join(dir, devca.KeyFile))
	if err != nil {
		return false
	}
	leaf := pair.Leaf
	return leaf != nil && leaf.CheckSignatureFrom(ca.Cert) == nil && time.Until(leaf.NotAfter) > demoSVIDMargin
}

// svidDirName is where certs issue writes id's files by default: id's
// path with '-' between its segments. A segment's own '-' and '_' are
// written "_-" and "__", so that no two IDs share a folder: ns/a-b is
// ns-a_-b, ns/a/b is ns-a-b.
func svidDirName(id spiffeid.ID) string {
	return svidDirReplacer.Replace(strings.TrimPrefix(id.Path(), "/"))
}

var svidDirReplacer = strings.NewReplacer("_", "__", "-", "_-", "/", "-")

// shellWord quotes s for a POSIX shell when it holds anything but plain
// path characters, so that a printed command can be pasted.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:=@,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// demoMeshCommands are the two commands a newcomer runs to call the mesh
// listener at addr: issue a certificate, then curl with it.
func demoMeshCommands(dir, addr string) (issue, curl string) {
	client := filepath.Join(dir, svidDirName(demoClientID))
	issue = fmt.Sprintf("portcullis certs issue --dir %s --spiffe-id %s", shellWord(dir), demoClientID)
	curl = fmt.Sprintf("curl --cert %s --key %s --cacert %s https://%s/allowed-path/echo",
		shellWord(filepath.Join(client, devca.CertFile)), shellWord(filepath.Join(client, devca.KeyFile)),
		shellWord(filepath.Join(dir, devca.CACertFile)), addr)
	return issue, curl
}
