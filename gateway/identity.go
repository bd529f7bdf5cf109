package gateway

import (
	"fmt"

	"github.com/portcullis-gw/portcullis/gateway/metrics"
)

// identityExpiry tells the metrics when the identity in force expires.
func (g *Gateway) identityExpiry() *metrics.IdentityExpiry {
	id := g.snap.Load().cfg.Identity
	if id == nil {
		return nil
	}
	out := &metrics.IdentityExpiry{SPIFFEID: id.SVID.ID.String(), SVID: id.SVID.Expiry()}
	for _, b := range id.Bundles() {
		for _, c := range b.X509Authorities() {
			out.Bundles = append(out.Bundles, metrics.BundleCert{
				TrustDomain: b.TrustDomain().Name(),
				Subject:     c.Subject.String(),
				Serial:      fmt.Sprintf("%x", c.SerialNumber),
				NotAfter:    c.NotAfter,
			})
		}
	}
	return out
}
