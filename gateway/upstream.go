package gateway

import (
	"crypto/sha256"
	"io"
	"os"

	"github.com/portcullis-gw/portcullis/gateway/upstream"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
)

// backend is one upstream definition's pool, with the names the access log
// and metrics give it.
type backend struct {
	pool *upstream.Pool
	spec *routes.UpstreamSpec
	// dest is what the definition says of Istio's destination_* labels.
	dest destination
	// files is a digest of the files the definition names (the CA
	// bundle): a pool is carried over a reload only if they are unchanged.
	files [32]byte
}

// filesDigest hashes the content of the files spec names, so that a
// rotated CA bundle builds a new pool although the definition is the same;
// for tls mode mutual, the identity's SVID and bundles too, so that after a
// rotation the pool connects anew with the new SVID.
func filesDigest(spec *routes.UpstreamSpec, id *identity.Identity) [32]byte {
	h := sha256.New()
	if spec.TLS != nil && spec.TLS.Mode == "mutual" && id != nil {
		for _, der := range id.SVID.Certificate.Certificate {
			h.Write(der)
		}
		for _, b := range id.Bundles() {
			io.WriteString(h, b.TrustDomain().Name())
			for _, c := range b.X509Authorities() {
				h.Write(c.Raw)
			}
		}
	}
	if spec.TLS != nil && spec.TLS.CAFile != "" {
		b, err := os.ReadFile(spec.TLS.CAFile)
		if err != nil {
			io.WriteString(h, err.Error())
		}
		h.Write(b)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func (g *Gateway) newBackend(spec *routes.UpstreamSpec, id *identity.Identity) (*backend, error) {
	// The digest is taken before the pool reads the files: should one
	// change in between, the next reload sees a difference and rebuilds.
	files := filesDigest(spec, id)
	p, err := upstream.New(spec, upstream.Options{
		Log:      g.log,
		Observer: g.upstreamMetrics.Observer(spec.Name),
		Resolver: g.opts.Resolver,
		Identity: id,
	})
	if err != nil {
		return nil, err
	}
	return &backend{pool: p, spec: spec, dest: destinationOf(spec), files: files}, nil
}
