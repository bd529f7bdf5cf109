package routes

import (
	"cmp"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
)

// defaultClusterID is Istio's cluster ID when none is configured, which
// sidecars then write as source_cluster and destination_cluster.
const defaultClusterID = "Kubernetes"

// checkWorkload fills the workload block from the environment where the
// file leaves it out, and checks it. A value from the environment that is
// not a valid name is reported with the variable it came from.
func (c *checker) checkWorkload() {
	w := &c.f.Workload
	s := c.scope("workload", w)
	if src := fromEnv(&w.Name, envWorkloadName, envPodName); w.Name != "" {
		if err := dnsSubdomain(w.Name); err != nil {
			s.errorf(&w.Name, "name%s: %v", src, err)
		}
	}
	if src := fromEnv(&w.Namespace, envPodNamespace); w.Namespace != "" {
		if err := dnsLabel(w.Namespace, false); err != nil {
			s.errorf(&w.Namespace, "namespace%s: %v", src, err)
		}
	}
	for _, f := range []struct {
		key string
		v   *string
	}{{"app", &w.App}, {"version", &w.Version}, {"canonical_service", &w.CanonicalService}, {"canonical_revision", &w.CanonicalRevision}} {
		if err := labelValue(*f.v); err != nil {
			s.errorf(f.v, "%s: %v", f.key, err)
		}
	}
	fill(&w.CanonicalService, cmp.Or(w.App, w.Name))
	fill(&w.CanonicalRevision, cmp.Or(w.Version, "latest"))
	fill(&w.ClusterID, defaultClusterID)
	if err := labelName(w.ClusterID); err != nil {
		s.errorf(&w.ClusterID, "cluster_id: %v", err)
	}
	fill(&w.ClusterDomain, "cluster.local")
	if err := dnsSubdomain(w.ClusterDomain); err != nil {
		s.errorf(&w.ClusterDomain, "cluster_domain: %v", err)
	}
}

// fromEnv fills *v, when the file left it empty, from the first of the
// environment variables that is set, and returns how messages name where
// the value came from.
func fromEnv(v *string, vars ...string) string {
	if *v != "" {
		return ""
	}
	for _, env := range vars {
		if val := os.Getenv(env); val != "" {
			if env == envPodName {
				val = workloadFromPod(val)
			}
			*v = val
			return " from $" + env
		}
	}
	return ""
}

// checkIdentity checks the fields that say which workload and Service an
// upstream is, and fills in the Service its endpoints name.
func (c *checker) checkIdentity(s scope, u *UpstreamSpec) {
	if u.Namespace != "" {
		if err := dnsLabel(u.Namespace, false); err != nil {
			s.errorf(&u.Namespace, "namespace: %v", err)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(u.Labels)) {
		if err := labelKey(k); err != nil {
			s.errorf(&u.Labels, "labels: key %q: %v", k, err)
		} else if err := labelValue(u.Labels[k]); err != nil {
			s.errorf(&u.Labels, "labels: %s: %v", k, err)
		}
	}
	if u.Workload != "" {
		if err := dnsSubdomain(u.Workload); err != nil {
			s.errorf(&u.Workload, "workload: %v", err)
		}
	}
	domain := c.f.Workload.ClusterDomain
	switch {
	case u.Service != "":
		if err := dnsLabel(u.Service, true); err != nil {
			s.errorf(&u.Service, "service: %v (the Service's name; its namespace is the upstream's namespace)", err)
			return
		}
		if u.Namespace == "" {
			s.errorf(&u.Service, "service: needs namespace, the Service's namespace")
			return
		}
	default:
		svc, ns, ok := endpointsService(u.Endpoints, domain)
		if !ok {
			return
		}
		if u.Namespace != "" && u.Namespace != ns {
			s.errorf(&u.EndpointList, "endpoints name Service %q in namespace %q, but namespace is %q", svc, ns, u.Namespace)
			return
		}
		u.Service, u.Namespace = svc, ns
	}
	u.ServiceHost = u.Service + "." + u.Namespace + ".svc." + domain
}

// endpointsService returns the Service that every endpoint names, when each
// host is <service>.<namespace>.svc or <service>.<namespace>.svc.<domain>
// (case and a final dot aside) and all name the same one.
func endpointsService(endpoints []string, domain string) (svc, ns string, ok bool) {
	for i, ep := range endpoints {
		host, _, err := net.SplitHostPort(ep)
		if err != nil {
			return "", "", false
		}
		s, n, isSvc := serviceHost(host, domain)
		if !isSvc || i > 0 && (s != svc || n != ns) {
			return "", "", false
		}
		svc, ns = s, n
	}
	return svc, ns, svc != ""
}

// serviceHost splits a Service's DNS name into the Service and namespace.
func serviceHost(host, domain string) (svc, ns string, ok bool) {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	rest, ok := strings.CutSuffix(h, ".svc."+domain)
	if !ok {
		if rest, ok = strings.CutSuffix(h, ".svc"); !ok {
			return "", "", false
		}
	}
	svc, ns, ok = strings.Cut(rest, ".")
	if !ok || dnsLabel(svc, true) != nil || dnsLabel(ns, false) != nil {
		return "", "", false
	}
	return svc, ns, true
}
