package gateway

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"

	"github.com/portcullis-gw/portcullis/gateway/metrics"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
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

// identityFor returns the identity cfg is to be served with, and the
// Workload API source it comes from, if any: cfg's own, read from files,
// or for an identity block with workload_api the one its socket sends.
// The running source serves an unchanged socket, and with an unchanged
// trust domain the running identity stays, even if the API sent a refused
// one since; another socket gets a new source, whose first SVID the
// gateway waits for.
func (g *Gateway) identityFor(cfg *routes.Config) (*identity.Identity, *workloadSource, error) {
	spec := cfg.File.Identity
	if spec == nil || spec.WorkloadAPI == nil {
		return cfg.Identity, nil, nil
	}
	src := g.wl
	if src != nil && src.addr == spec.WorkloadAPI.Socket {
		if running := g.snap.Load(); running != nil && sameTrust(running.loaded.cfg.File.Identity, spec) {
			return running.cfg.Identity, src, nil
		}
	} else {
		var err error
		if src, err = openWorkloadSource(spec.WorkloadAPI.Socket, g.log, g.opts.WorkloadAPIRetry); err != nil {
			return nil, nil, err
		}
		g.log.Info().Str("workload_api", src.addr).Dur("wait", g.opts.WorkloadAPIWait).Msg("waiting for the gateway's SVID from the workload API")
		if err := src.wait(g.opts.WorkloadAPIWait); err != nil {
			src.close()
			return nil, nil, err
		}
	}
	id, err := src.identity(spec.Domains())
	if err != nil {
		if src != g.wl {
			src.close()
		}
		return nil, nil, err
	}
	g.log.Info().Str("workload_api", src.addr).Str("spiffe_id", id.SVID.ID.String()).Time("expires", id.SVID.Expiry()).
		Msg("identity from the workload API")
	return id, src, nil
}

// sameTrust reports whether two identity blocks take the same trust
// domain and aliases.
func sameTrust(a, b *routes.Identity) bool {
	return a != nil && a.WorkloadAPI != nil && a.TrustDomain == b.TrustDomain && slices.Equal(a.TrustDomainAliases, b.TrustDomainAliases)
}

// useSource makes src the running Workload API source, closing the one it
// replaces, and rotates the identity on each context src sends from now.
func (g *Gateway) useSource(src *workloadSource) {
	if src == g.wl {
		return
	}
	if g.wl != nil {
		g.wl.close()
	}
	g.wl = src
	if src == nil {
		return
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for range src.updated {
			g.rotate(src)
		}
	}()
}

// rotate puts in force the identity the latest context of src makes, the
// running configuration otherwise unchanged, as a reload whose identity
// files changed would: new handshakes present the new SVID and verify with
// the new bundles, and pools over mutual TLS connect anew. A context that
// makes no valid identity is refused, with a log line, and the running
// identity stays.
func (g *Gateway) rotate(src *workloadSource) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.wl != src {
		return
	}
	running := g.snap.Load()
	id, err := src.identity(running.loaded.cfg.File.Identity.Domains())
	if err != nil {
		g.log.Warn().Err(err).Msg("identity from the workload API refused; the running identity stays")
		return
	}
	if sameIdentity(id, running.cfg.Identity) {
		return
	}
	if err := g.swap(running.loaded.cfg, id); err != nil {
		g.log.Error().Err(err).Msg("identity rotation failed; the running identity stays")
		return
	}
	g.log.Info().Str("spiffe_id", id.SVID.ID.String()).Time("expires", id.SVID.Expiry()).
		Str("workload_api", src.addr).Msg("identity rotated")
}

// sameIdentity reports whether a and b hold the same SVID chain and the
// same bundles, so that a context the API sends again changes nothing.
func sameIdentity(a, b *identity.Identity) bool {
	if b == nil || !slices.EqualFunc(a.SVID.Certificate.Certificate, b.SVID.Certificate.Certificate, bytes.Equal) {
		return false
	}
	return slices.EqualFunc(a.Bundles(), b.Bundles(), (*x509bundle.Bundle).Equal)
}
