package routes

import "fmt"

// checkForwardClientCert checks a listener's forward_client_cert and fills
// in its default mode: sanitize_set where callers present certificates,
// as Istio's gateways do, and sanitize elsewhere.
func checkForwardClientCert(s scope, l *Listener) {
	f := &l.ForwardClientCert
	verifies := l.TLS.VerifiesCallers()
	if f.Mode == "" && verifies {
		f.Mode = "sanitize_set"
	}
	s.oneOf("forward_client_cert.mode", &f.Mode, "sanitize", "forward_only", "append_forward", "sanitize_set", "always_forward_only")
	switch f.Mode {
	case "forward_only", "append_forward", "sanitize_set":
		if !verifies {
			s.errorf(&f.Mode, "forward_client_cert.mode: %s needs tls.client_auth optional or require, or no caller ever has a certificate", f.Mode)
		}
	}
	for i := range f.TrustedPeers {
		checkPrincipal(s, &f.TrustedPeers[i], fmt.Sprintf("forward_client_cert.trusted_peers[%d]", i))
	}
}
