package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// IdentityExpiry is what the identity gauges show: when the gateway's SVID
// and each certificate of its trust bundles expire.
type IdentityExpiry struct {
	SPIFFEID string
	// SVID is when the SVID stops verifying: the earliest end of its
	// chain's validity.
	SVID    time.Time
	Bundles []BundleCert
}

// BundleCert is one CA certificate of a trust bundle.
type BundleCert struct {
	TrustDomain, Subject, Serial string
	NotAfter                     time.Time
}

// identityCollector reports, at each scrape, the seconds until the
// identity in force expires, so that an alert fires while there is time to
// rotate (the files, or the CA), whatever reloads happened in between:
//
//   - portcullis_identity_svid_time_to_expiry_seconds{spiffe_id}
//   - portcullis_identity_bundle_time_to_expiry_seconds{trust_domain,subject,serial}
//
// Both are negative once expired, and absent without an identity.
type identityCollector struct {
	read   atomic.Pointer[func() *IdentityExpiry]
	svid   *prometheus.Desc
	bundle *prometheus.Desc
}

func newIdentityCollector() *identityCollector {
	return &identityCollector{
		svid: prometheus.NewDesc("portcullis_identity_svid_time_to_expiry_seconds",
			"Seconds until the gateway's X.509-SVID (its chain's earliest end) expires; negative once expired.",
			[]string{"spiffe_id"}, nil),
		bundle: prometheus.NewDesc("portcullis_identity_bundle_time_to_expiry_seconds",
			"Seconds until each CA certificate of the gateway's trust bundles expires; negative once expired.",
			[]string{"trust_domain", "subject", "serial"}, nil),
	}
}

func (c *identityCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.svid
	ch <- c.bundle
}

func (c *identityCollector) Collect(ch chan<- prometheus.Metric) {
	read := c.read.Load()
	if read == nil {
		return
	}
	id := (*read)()
	if id == nil {
		return
	}
	now := time.Now()
	ch <- prometheus.MustNewConstMetric(c.svid, prometheus.GaugeValue, id.SVID.Sub(now).Seconds(), value(id.SPIFFEID))
	for _, b := range id.Bundles {
		ch <- prometheus.MustNewConstMetric(c.bundle, prometheus.GaugeValue, b.NotAfter.Sub(now).Seconds(),
			value(b.TrustDomain), value(b.Subject), value(b.Serial))
	}
}

// WatchIdentity makes the identity gauges read the identity in force from
// read at each scrape; read returns nil when there is none.
func (m *Metrics) WatchIdentity(read func() *IdentityExpiry) { m.identity.read.Store(&read) }
