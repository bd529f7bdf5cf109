package gateway

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
)

// handshakeConfig is what a listener's new TLS handshakes use: the server
// configuration and, on a listener with client_auth, the check of callers'
// certificates. A reload swaps it whole.
type handshakeConfig struct {
	tls  *tls.Config
	auth *callerAuth // nil when callers are not asked for a certificate
}

// forClient returns the configuration of one handshake. With client auth,
// each handshake gets its own copy whose VerifyConnection knows the
// caller's address, for the refusal's log line; crypto/tls calls it on
// full handshakes and on resumed ones alike, and quic-go calls it for
// HTTP/3, so every way in is checked against the bundles in force.
// tickets is the configuration the server was started with, whose keys
// seal its session tickets; nextProtos, when set, replace the ALPN
// protocols (HTTP/3's).
func (h *handshakeConfig) forClient(hello *tls.ClientHelloInfo, tickets *tls.Config, nextProtos []string) *tls.Config {
	if h.auth == nil && nextProtos == nil {
		return h.tls
	}
	c := h.tls.Clone()
	if nextProtos != nil {
		c.NextProtos = nextProtos
	}
	if h.auth != nil {
		var remote net.Addr
		if hello.Conn != nil {
			remote = hello.Conn.RemoteAddr()
		}
		c.VerifyConnection = func(cs tls.ConnectionState) error { return h.auth.verify(cs, remote) }
		c.WrapSession, c.UnwrapSession = h.auth.sessions(tickets)
	}
	return c
}

// peerMarker marks a session ticket whose handshake verified a caller's
// certificate.
var peerMarker = []byte("portcullis:peer")

// sessions returns the hooks that seal and open session tickets with the
// keys of tickets, marking those that carry a caller's certificate. A
// listener that requires one resumes no session without: crypto/tls would
// resume it (the listener asks for certificates without requiring them
// from crypto/tls, so that a refusal is counted), and the caller, which may
// hold a certificate now, would be refused instead of asked for it. Such a
// session from before client_auth became require makes a full handshake.
func (a *callerAuth) sessions(tickets *tls.Config) (
	wrap func(tls.ConnectionState, *tls.SessionState) ([]byte, error),
	unwrap func([]byte, tls.ConnectionState) (*tls.SessionState, error),
) {
	wrap = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		if len(cs.PeerCertificates) > 0 {
			ss.Extra = append(ss.Extra, peerMarker)
		}
		return tickets.EncryptTicket(cs, ss)
	}
	unwrap = func(ticket []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		ss, err := tickets.DecryptTicket(ticket, cs)
		if err != nil || ss == nil || !a.require {
			return ss, err
		}
		if !slices.ContainsFunc(ss.Extra, func(e []byte) bool { return bytes.Equal(e, peerMarker) }) {
			return nil, nil
		}
		return ss, nil
	}
	return wrap, unwrap
}

// callerAuth checks callers' certificates as X.509-SVIDs against the
// identity's trust bundles.
type callerAuth struct {
	require  bool
	verifier *identity.Verifier
	// refused reports a refusal: its log line and its counter.
	refused func(reason identity.Reason, err error, remote net.Addr)
}

// newCallerAuth returns the check spec's client_auth asks for, or nil for
// none. The listener asks for a certificate without requiring one from
// crypto/tls even under require, so that a caller without one is refused
// here, counted and logged like every other refusal.
func newCallerAuth(spec *routes.ListenerTLS, id *identity.Identity, refused func(identity.Reason, error, net.Addr)) *callerAuth {
	if !spec.VerifiesCallers() || id == nil {
		return nil
	}
	return &callerAuth{require: spec.ClientAuth == "require", verifier: id.Verifier(), refused: refused}
}

// verify passes a caller without a certificate unless one is required, and
// a caller with one only if it verifies: a bad certificate is refused,
// never taken as no certificate.
func (a *callerAuth) verify(cs tls.ConnectionState, remote net.Addr) error {
	if len(cs.PeerCertificates) == 0 && !a.require {
		return nil
	}
	_, err := a.verifier.Verify(cs.PeerCertificates, x509.ExtKeyUsageClientAuth, time.Now())
	if err != nil {
		reason := identity.BadChain
		if r, ok := errors.AsType[*identity.Refusal](err); ok {
			reason = r.Reason
		}
		a.refused(reason, err, remote)
	}
	return err
}

// callerIdentity is what the gateway knows of a connection's verified
// caller.
type callerIdentity struct {
	plugins.Identity
	// subject is the leaf's subject, RFC 2253, for %DOWNSTREAM_PEER_SUBJECT%.
	subject string
	// certElement is what the leaf puts in x-forwarded-client-cert.
	certElement string
}

// peerIdentity reads the verified caller of a connection whose handshake
// callerAuth passed: the SPIFFE ID of the leaf it presented (a resumed
// session carries the certificates of its first handshake), or nil for a
// caller without a certificate.
func peerIdentity(cs tls.ConnectionState) *callerIdentity {
	if len(cs.PeerCertificates) == 0 {
		return nil
	}
	leaf := cs.PeerCertificates[0]
	id, _, err := identity.IDFromCert(leaf)
	if err != nil {
		return nil // not reached: the handshake verified the ID
	}
	p := identity.NewPeer(id)
	return &callerIdentity{
		Identity: plugins.Identity{
			SPIFFEID:       id.String(),
			Principal:      p.Principal,
			TrustDomain:    id.TrustDomain().Name(),
			Namespace:      p.Namespace,
			ServiceAccount: p.ServiceAccount,
		},
		subject:     leaf.Subject.String(),
		certElement: certElement(leaf),
	}
}

// callerRefused logs and counts a caller refused for its certificate.
func (g *Gateway) callerRefused(listener string, reason identity.Reason, err error, remote net.Addr) {
	g.metrics.CallerRefused(listener, string(reason))
	e := g.log.Warn().Str("listener", listener).Str("reason", string(reason)).Err(err)
	if remote != nil {
		e = e.Stringer("remote", remote)
	}
	e.Msg("caller's certificate refused")
}
