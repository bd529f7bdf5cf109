package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync/atomic"
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
		// Tickets are sealed with the keys of the configuration the
		// server started with, so that sessions resume across these
		// copies and across reloads. crypto/tls resumes no session
		// without a certificate on a listener that requires one: the
		// caller, which may hold one now, is asked in a full handshake.
		c.WrapSession, c.UnwrapSession = tickets.EncryptTicket, tickets.DecryptTicket
	}
	return c
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
// none.
func newCallerAuth(spec *routes.ListenerTLS, id *identity.Identity, refused func(identity.Reason, error, net.Addr)) *callerAuth {
	if !spec.VerifiesCallers() || id == nil {
		return nil
	}
	return &callerAuth{require: spec.ClientAuth == "require", verifier: id.Verifier(), refused: refused}
}

// verify passes a caller without a certificate unless one is required, and
// a caller with one only if it verifies: a bad certificate is refused,
// never taken as no certificate. Under require, crypto/tls refuses a
// caller without one before this runs (refusedByTLS counts it).
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
	// withBy is certElement after the By of a snapshot, made at the
	// connection's first request that needs it.
	withBy atomic.Pointer[byElement]
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

// callerReasons are the reasons a caller is refused for, the values of the
// refusal counter's reason label.
var callerReasons = []string{
	string(identity.NoCertificate), string(identity.UnknownCA), string(identity.Expired),
	string(identity.NotYetValid), string(identity.NoClientAuth), string(identity.CAAsLeaf),
	string(identity.MissingID), string(identity.MalformedID), string(identity.MalformedCertificate),
	string(identity.ForeignTrustDomain), string(identity.MultipleURISANs), string(identity.ChainTooLong),
	string(identity.BadChain),
}

// countCallerRefusals makes the refusal counters of cfg's listeners that
// verify callers exist from the start, and drops those of the others.
func (g *Gateway) countCallerRefusals(cfg *routes.Config) {
	var names []string
	for _, spec := range cfg.File.Listeners {
		if cfg.Identity != nil && spec.TLS.VerifiesCallers() {
			names = append(names, spec.Name)
		}
	}
	g.metrics.CallerListeners(names, callerReasons)
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

// handshakeFailed counts and logs a caller that crypto/tls refused itself,
// before VerifyConnection could run; other handshake failures are not
// about the caller's certificate and are left alone.
func (g *Gateway) handshakeFailed(listener string, err error, remote net.Addr) {
	if reason, ok := refusedByTLS(err); ok {
		g.callerRefused(listener, reason, err, remote)
	}
}

// The texts of crypto/tls's own refusals of a caller's certificate, which
// carry no type of their own.
const (
	tlsNoCertificate = "tls: client didn't provide a certificate"
	tlsParseFailed   = "tls: failed to parse client certificate: "
)

// refusedByTLS names the refusal of a caller that crypto/tls made before
// VerifyConnection: no certificate on a listener that requires one
// (RequireAnyClientCert, so that the alert is the one Envoy sends), or a
// certificate that crypto/x509 cannot parse, whose URI SAN is not a URI
// most often. The errors are told by their text, at any depth of the
// wrapping quic-go adds; ok is false for any other failure.
func refusedByTLS(err error) (reason identity.Reason, ok bool) {
	for _, e := range errorTree(err, nil) {
		msg := e.Error()
		switch {
		case msg == tlsNoCertificate:
			return identity.NoCertificate, true
		case strings.HasPrefix(msg, tlsParseFailed+"x509: cannot parse URI "),
			strings.HasPrefix(msg, tlsParseFailed+"x509: SAN uniformResourceIdentifier is malformed"):
			return identity.MalformedID, true
		case strings.HasPrefix(msg, tlsParseFailed):
			return identity.MalformedCertificate, true
		}
	}
	return "", false
}

// errorTree appends err and every error it wraps to out.
func errorTree(err error, out []error) []error {
	if err == nil {
		return out
	}
	out = append(out, err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = errorTree(u.Unwrap(), out)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = errorTree(e, out)
		}
	}
	return out
}
