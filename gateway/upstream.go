package gateway

import (
	"github.com/portcullis-gw/portcullis/gateway/upstream"
	"github.com/portcullis-gw/portcullis/routes"
)

// backend is one upstream definition's pool, with the names the access log
// and metrics give it.
type backend struct {
	pool *upstream.Pool
	spec *routes.UpstreamSpec
	// service is the destination service host for metrics.
	service string
}

func (g *Gateway) newBackend(spec *routes.UpstreamSpec) (*backend, error) {
	p, err := upstream.New(spec, upstream.Options{
		Log:      g.log,
		Observer: g.upstreamMetrics.Observer(spec.Name),
	})
	if err != nil {
		return nil, err
	}
	b := &backend{pool: p, spec: spec, service: spec.Name}
	if spec.Namespace != "" {
		b.service = spec.Name + "." + spec.Namespace + ".svc.cluster.local"
	}
	return b, nil
}
