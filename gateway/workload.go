package gateway

import (
	"cmp"
	"net/http"
	"strings"

	"github.com/portcullis-gw/portcullis/gateway/metrics"
	"github.com/portcullis-gw/portcullis/routes"
)

// The labels Istio reads a workload's app, version and canonical service
// and revision from (istio/istio pkg/kube/labels).
const (
	labelApp               = "app"
	labelVersion           = "version"
	labelK8sName           = "app.kubernetes.io/name"
	labelK8sVersion        = "app.kubernetes.io/version"
	labelCanonicalName     = "service.istio.io/canonical-name"
	labelCanonicalRevision = "service.istio.io/canonical-revision"
)

// sourceLabels are the Istio labels every request of a configuration
// shares. The gateway reports as Istio's gateways do, reporter="source",
// and in that role Istio's source_* labels describe the reporting proxy
// itself, so they come from the gateway's own workload, not from its
// callers. source_principal is the identity the gateway presents upstream,
// so it is known only for an upstream over mutual TLS (metricLabels).
func sourceLabels(w *routes.Workload) metrics.Labels {
	return metrics.Labels{
		SourceWorkload:          w.Name,
		SourceCanonicalService:  w.CanonicalService,
		SourceCanonicalRevision: w.CanonicalRevision,
		SourceNamespace:         w.Namespace,
		SourceApp:               w.App,
		SourceVersion:           w.Version,
		SourceCluster:           w.ClusterID,
		RequestProtocol:         "http",
		// Istio's source reporter always writes unknown; mutual_tls and
		// none belong to the destination reporter.
		ConnectionSecurityPolicy: "unknown",
	}
}

// destination is what an upstream's definition says of the destination_*
// labels.
type destination struct {
	workload, namespace, app, version   string
	service, serviceName                string
	canonicalService, canonicalRevision string
	// inCluster is set for a cluster Service, which runs in the gateway's
	// own cluster.
	inCluster bool
}

// destinationOf reads an upstream's labels as Istio reads a pod's.
// destination_service is the Service's name in DNS for a cluster Service,
// else the upstream's name, which the config bounds.
func destinationOf(spec *routes.UpstreamSpec) destination {
	l := spec.Labels
	return destination{
		workload:          spec.Workload,
		namespace:         spec.Namespace,
		app:               cmp.Or(l[labelApp], l[labelK8sName], l[labelCanonicalName]),
		version:           cmp.Or(l[labelVersion], l[labelK8sVersion], l[labelCanonicalRevision]),
		service:           cmp.Or(spec.ServiceHost, spec.Name),
		serviceName:       cmp.Or(spec.Service, spec.Name),
		canonicalService:  cmp.Or(l[labelCanonicalName], l[labelK8sName], l[labelApp], spec.Workload),
		canonicalRevision: cmp.Or(l[labelCanonicalRevision], l[labelK8sVersion], l[labelVersion]),
		inCluster:         spec.ServiceHost != "",
	}
}

// metricLabels are the Istio labels of one request: the configuration's,
// the upstream's, the protocol the request speaks and, on a listener that
// verifies its callers, the caller's.
func metricLabels(ex *exchange, r *http.Request) (l metrics.Labels) {
	l = ex.snap.source
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/grpc") {
		l.RequestProtocol = "grpc"
	}
	if ex.conn.listener.clientAuth {
		defer waypointLabels(&l, ex.conn.peer) // on the result, once the upstream's are in
	}
	if ex.up == nil {
		return l
	}
	d := &ex.up.dest
	l.DestinationWorkload = d.workload
	l.DestinationWorkloadNamespace = d.namespace
	l.DestinationApp = d.app
	l.DestinationVersion = d.version
	l.DestinationService = d.service
	l.DestinationServiceName = d.serviceName
	l.DestinationServiceNamespace = d.namespace
	l.DestinationCanonicalService = d.canonicalService
	l.DestinationCanonicalRevision = d.canonicalRevision
	if d.inCluster {
		l.DestinationCluster = l.SourceCluster
	}
	// Over mutual TLS, as Istio's source reporter does, the upstream's
	// verified SPIFFE ID is destination_principal and the SVID the gateway
	// presented is source_principal; over anything less the upstream's
	// certificate names no verified workload.
	if t := ex.up.spec.TLS; t != nil && t.Mode == "mutual" && ex.rec.UpstreamPeerURISAN != "" {
		l.DestinationPrincipal = ex.rec.UpstreamPeerURISAN
		if id := ex.snap.cfg.Identity; id != nil {
			l.SourcePrincipal = id.SVID.ID.String()
		}
	}
	return l
}

// waypointLabels makes l the labels of a request on a listener that
// verifies its callers' certificates: Istio's waypoint reporter, whose
// source is the caller. A caller is known by its certificate alone: its
// principal (the full URI SAN, as Istio writes it) and the namespace its
// SPIFFE ID names; its workload, app and cluster are unknown.
// connection_security_policy is mutual_tls for a verified caller, none for
// one without a certificate (client_auth optional).
func waypointLabels(l *metrics.Labels, caller *callerIdentity) {
	l.Reporter = "waypoint"
	l.SourceWorkload, l.SourceCanonicalService, l.SourceCanonicalRevision = "", "", ""
	l.SourceApp, l.SourceVersion, l.SourceCluster = "", "", ""
	l.SourceNamespace, l.SourcePrincipal = "", ""
	l.ConnectionSecurityPolicy = "none"
	if caller != nil {
		l.SourcePrincipal, l.SourceNamespace = caller.SPIFFEID, caller.Namespace
		l.ConnectionSecurityPolicy = "mutual_tls"
	}
}
