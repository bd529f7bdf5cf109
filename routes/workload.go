package routes

import "strings"

// Workload is who the gateway is in its cluster. Reporting as Istio's
// ingress and egress gateways do (reporter="source"), the gateway fills the
// source_* labels of Istio's metrics with its own workload, so that the
// mesh, service and workload dashboards show it by name.
type Workload struct {
	// Name is source_workload, the gateway's Deployment (or DaemonSet …).
	// Empty means $PORTCULLIS_WORKLOAD_NAME, else $POD_NAME without its
	// ReplicaSet suffix (see workloadFromPod).
	Name string `yaml:"name" json:"name,omitempty"`
	// Namespace is source_workload_namespace; empty means $POD_NAMESPACE,
	// which the downward API sets.
	Namespace string `yaml:"namespace" json:"namespace,omitempty"`
	// App and Version are source_app and source_version, the pod's app
	// and version labels.
	App     string `yaml:"app" json:"app,omitempty"`
	Version string `yaml:"version" json:"version,omitempty"`
	// CanonicalService is source_canonical_service; empty means App, else
	// Name, as Istio derives it.
	CanonicalService string `yaml:"canonical_service" json:"canonical_service,omitempty"`
	// CanonicalRevision is source_canonical_revision; empty means Version,
	// else "latest".
	CanonicalRevision string `yaml:"canonical_revision" json:"canonical_revision,omitempty"`
	// ClusterID is source_cluster, and destination_cluster of upstreams
	// that are cluster Services; default "Kubernetes", Istio's default
	// cluster ID.
	ClusterID string `yaml:"cluster_id" json:"cluster_id"`
	// ClusterDomain is the cluster's DNS domain, which ends a Service's
	// name: <service>.<namespace>.svc.<cluster domain>; default
	// cluster.local.
	ClusterDomain string `yaml:"cluster_domain" json:"cluster_domain"`
}

// The environment variables that give Workload its defaults.
const (
	// envWorkloadName names the workload outright, for pods whose name
	// does not say it (a DaemonSet's, a StatefulSet's).
	envWorkloadName = "PORTCULLIS_WORKLOAD_NAME"
	// envPodName is the pod's name, from the downward API
	// (fieldRef: metadata.name).
	envPodName = "POD_NAME"
	// envPodNamespace is the pod's namespace, from the downward API
	// (fieldRef: metadata.namespace).
	envPodNamespace = "POD_NAMESPACE"
)

// workloadFromPod returns the workload a pod's name says: for a
// Deployment's pod, <deployment>-<pod-template-hash>-<5 random>, the
// Deployment's name; any other name as it is. Both suffixes are made of
// the letters and digits Kubernetes uses for generated names
// (bcdfghjklmnpqrstvwxz2456789, and plain digits in old hashes); a name
// whose last two parts are not shaped so is not taken apart. A DaemonSet's
// pod (<name>-<5 random>) cannot be told from a Deployment whose name ends
// in such a part, nor a StatefulSet's (<name>-<ordinal>) from a pod so
// named, so for those set PORTCULLIS_WORKLOAD_NAME or workload.name.
func workloadFromPod(pod string) string {
	rest, random, ok := cutLast(pod)
	if !ok || len(random) != 5 || !generated(random, false) {
		return pod
	}
	name, hash, ok := cutLast(rest)
	if !ok || name == "" || len(hash) > 10 || !generated(hash, true) {
		return pod
	}
	return name
}

// cutLast splits s at its last '-'.
func cutLast(s string) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// generated reports whether s is non-empty and made only of the characters
// of Kubernetes' generated names, and of any digit when digits is set.
func generated(s string, digits bool) bool {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !strings.ContainsRune(alphabet, rune(c)) && !(digits && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}
