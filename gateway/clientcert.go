package gateway

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/portcullis-gw/portcullis/gateway/xfcc"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
)

// clientCertPolicy is a listener's forward_client_cert: what the upstream
// learns of the caller's certificate in x-forwarded-client-cert.
type clientCertPolicy struct {
	mode string
	// trusted are the principals whose incoming header may be kept.
	trusted []string
	// by says the listener presents the gateway's SVID, whose ID is then
	// the By of the gateway's element, as Envoy writes its own URI SAN.
	by bool
}

func newClientCertPolicy(spec routes.Listener) clientCertPolicy {
	return clientCertPolicy{
		mode:    spec.ForwardClientCert.Mode,
		trusted: spec.ForwardClientCert.TrustedPeers,
		by:      spec.TLS != nil && spec.TLS.Identity,
	}
}

// certElement is the part of the gateway's element that a connection's
// verified leaf fixes, as Envoy's set_current_client_cert_details with
// subject, uri and dns (Istio's choice) writes it: Hash, the hex SHA-256 of
// the leaf; Subject, RFC 2253; URI; and each DNS name.
func certElement(leaf *x509.Certificate) string {
	sum := sha256.Sum256(leaf.Raw)
	e := xfcc.Element{
		{Key: "Hash", Value: hex.EncodeToString(sum[:])},
		{Key: "Subject", Value: escapeControls(leaf.Subject.String())},
	}
	for _, u := range leaf.URIs {
		e = append(e, xfcc.Pair{Key: "URI", Value: u.String()})
	}
	for _, d := range leaf.DNSNames {
		e = append(e, xfcc.Pair{Key: "DNS", Value: d})
	}
	b, _ := xfcc.Append(nil, e) // a DNS name with a control character is left out
	return string(b)
}

// escapeControls writes the control characters that Go's RFC 2253 form
// leaves raw as RFC 4514 hex pairs (\0A), which a header can carry.
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, `\%02X`, c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// takeClientCert removes every spelling of x-forwarded-client-cert from h
// and returns the value of the canonical one, whose lines are joined as
// one list. Other spellings are never forwarded: a backend that reads '_'
// as '-' would take one for the gateway's.
func takeClientCert(h http.Header) string {
	lines := h[xfcc.Header]
	for k := range h {
		if plugins.SameHeaderName(k, xfcc.Header) {
			delete(h, k)
		}
	}
	return strings.Join(lines, ",")
}

// forwardClientCert sets the x-forwarded-client-cert header the upstream
// receives, as Envoy's forward_client_cert_details does, from incoming,
// what the caller sent (takeClientCert). An incoming header is kept only
// from a trusted peer and only if it parses, so that nothing appended to
// it can be read as part of it; anyone can write the header, and only the
// certificate the gateway verified names the caller.
func (ex *exchange) forwardClientCert(h http.Header, incoming string) {
	pol := &ex.conn.listener.clientCert
	peer := ex.conn.peer
	keep := incoming != "" && pol.mode != "sanitize" && pol.mode != "sanitize_set" &&
		(ex.peerTrusted || peer != nil && slices.Contains(pol.trusted, peer.Principal))
	if keep {
		if _, err := xfcc.Parse(incoming); err != nil {
			keep = false
		}
	}
	var out string
	switch {
	case pol.mode == "always_forward_only":
		if keep {
			out = incoming
		}
	case peer == nil, pol.mode == "sanitize", pol.mode == "":
	case pol.mode == "forward_only":
		if keep {
			out = incoming
		}
	case pol.mode == "append_forward", pol.mode == "sanitize_set":
		out = ex.clientCertElement(pol, peer)
		if keep {
			out = incoming + "," + out
		}
	}
	if out != "" {
		h[xfcc.Header] = []string{out}
	}
}

// clientCertElement is the gateway's element for peer: By, then what the
// connection's leaf says. It is made once per connection and snapshot,
// not per request: the snapshot holds By (xfccBy) and the connection's
// identity the element last made with it.
func (ex *exchange) clientCertElement(pol *clientCertPolicy, peer *callerIdentity) string {
	by := ex.snap.xfccBy
	if !pol.by || by == "" {
		return peer.certElement
	}
	if e := peer.withBy.Load(); e != nil && e.by == by {
		return e.element
	}
	e := &byElement{by: by, element: by + peer.certElement}
	peer.withBy.Store(e)
	return e.element
}

// byElement is a caller's element with the gateway's By in front.
type byElement struct {
	by, element string
}

// xfccBy is the start of the gateway's element on listeners that present
// its SVID, "By=<its SPIFFE ID>;", or "" without an identity.
func xfccBy(id *identity.Identity) string {
	if id == nil {
		return ""
	}
	b, _ := xfcc.Append(nil, xfcc.Element{{Key: "By", Value: id.SVID.ID.String()}})
	return string(b) + ";"
}
