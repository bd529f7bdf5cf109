package routes

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// envWorkloadAPISocket is the variable the SPIFFE Workload Endpoint
// standard names for the Workload API's address.
const envWorkloadAPISocket = "SPIFFE_ENDPOINT_SOCKET"

// maxSocketPath is the longest path a unix socket address holds on Linux
// (sun_path is 108 bytes, the last one a NUL).
const maxSocketPath = 107

// checkWorkloadAPI checks an identity block whose SVID and bundles come
// from the Workload API: the file sources cannot be set beside it, and its
// socket is written as unix:///path.
func (c *checker) checkWorkloadAPI(s scope, spec *Identity) {
	const why = "cannot be set with workload_api, which gives the SVID and the bundles"
	if spec.SVID != (CertKey{}) {
		s.errorf(&spec.SVID, "svid: %s", why)
	}
	if spec.Bundle != "" {
		s.errorf(&spec.Bundle, "bundle: %s", why)
	}
	if len(spec.FederatedBundles) > 0 {
		s.errorf(&spec.FederatedBundles, "federated_bundles: %s", why)
	}
	w := spec.WorkloadAPI
	src := fromEnv(&w.Socket, envWorkloadAPISocket)
	if w.Socket == "" {
		s.errorf(w, "workload_api.socket: is required (or $%s): the Workload API's unix socket, such as unix:///run/spire/sockets/agent.sock", envWorkloadAPISocket)
		return
	}
	addr, err := workloadAPIAddress(w.Socket)
	if err != nil {
		s.errorf(&w.Socket, "workload_api.socket%s: %q: %v", src, w.Socket, err)
		return
	}
	w.Socket = addr
}

// workloadAPIAddress returns the unix:///path address of a socket written
// as unix:///path or /path. Only unix sockets are taken: the Workload API
// is the local agent's, and over TCP nothing would tell the gateway that
// whoever answers is that agent.
func workloadAPIAddress(s string) (string, error) {
	if strings.HasPrefix(s, "/") {
		s = "unix://" + s
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // the message without the whole address again
		}
		return "", err
	case u.Scheme == "tcp":
		return "", errors.New("only a unix socket is taken: the Workload API is the local agent's")
	case u.Scheme != "unix":
		return "", errors.New("want unix:///path or /path")
	case u.Opaque != "":
		return "", errors.New("the path must be absolute: unix:///path, with three slashes")
	case u.Host != "":
		return "", fmt.Errorf("names the host %q: a unix socket's path follows unix:// with a third slash, unix:///%s%s", u.Host, u.Host, u.Path)
	case u.User != nil, u.RawQuery != "", u.Fragment != "", u.ForceQuery:
		return "", errors.New("must hold a path alone, without user, query or fragment")
	case u.Path == "" || u.Path == "/":
		return "", errors.New("names no socket")
	case len(u.Path) > maxSocketPath:
		return "", fmt.Errorf("the path is %d bytes, longer than a unix socket's %d", len(u.Path), maxSocketPath)
	}
	return "unix://" + (&url.URL{Path: path.Clean(u.Path)}).EscapedPath(), nil
}

// Domains returns the identity's trust domain and its aliases, which
// validation has checked.
func (i *Identity) Domains() (spiffeid.TrustDomain, []spiffeid.TrustDomain) {
	td, _ := spiffeid.TrustDomainFromString(i.TrustDomain)
	var aliases []spiffeid.TrustDomain
	for _, a := range i.TrustDomainAliases {
		if alias, err := spiffeid.TrustDomainFromString(a); err == nil {
			aliases = append(aliases, alias)
		}
	}
	return td, aliases
}
