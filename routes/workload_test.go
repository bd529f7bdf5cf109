package routes

import "testing"

// TestWorkloadFromPod takes a Deployment's name out of its pods' names and
// leaves every other name whole, hostile ones included.
func TestWorkloadFromPod(t *testing.T) {
	tests := []struct{ pod, want string }{
		{"portcullis-7d9f8b6c5d-x2k4p", "portcullis"},
		{"edge-gw-v2-5c9b7f8d4-zq7xw", "edge-gw-v2"},
		{"portcullis-1234567890-x2k4p", "portcullis"},                    // an old numeric hash
		{"portcullis-b-x2k4p", "portcullis"},                             // a one-character hash
		{"portcullis-7d9f8b6c5dd-x2k4p", "portcullis-7d9f8b6c5dd-x2k4p"}, // hash too long
		{"portcullis-x2k4p", "portcullis-x2k4p"},                         // a DaemonSet's pod: only one suffix
		{"web-0", "web-0"},                                               // a StatefulSet's pod
		{"portcullis-7d9f8b6c5d-x2k4", "portcullis-7d9f8b6c5d-x2k4"},     // random part too short
		{"portcullis-7d9f8b6c5d-x2k4pp", "portcullis-7d9f8b6c5d-x2k4pp"}, // too long
		{"portcullis-7d9f8b6c5d-aeiou", "portcullis-7d9f8b6c5d-aeiou"},   // vowels are never generated
		{"portcullis-7D9F8B6C5D-X2K4P", "portcullis-7D9F8B6C5D-X2K4P"},   // upper case is never generated
		{"portcullis-7d9f8b6c5d-x2k-p", "portcullis-7d9f8b6c5d-x2k-p"},
		{"-7d9f8b6c5d-x2k4p", "-7d9f8b6c5d-x2k4p"}, // nothing before the hash
		{"7d9f8b6c5d-x2k4p", "7d9f8b6c5d-x2k4p"},
		{"--x2k4p", "--x2k4p"},
		{"", ""},
		{"portcullis", "portcullis"},
	}
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			if got := workloadFromPod(tt.pod); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// workloadFile is a routes file with the top-level block top and one
// upstream, up, whose other fields are written in flow style.
func workloadFile(top, fields string) string {
	return top + `
listeners: [ { name: l, address: "127.0.0.1:0" } ]
virtual_hosts: [ { name: v, hosts: ["*"], routes: [ { name: r, upstream: up } ] } ]
upstreams: [ { name: up, ` + fields + ` } ]
`
}

// TestWorkloadDefaults fills the workload block from the environment where
// the file leaves it out, and from Istio's defaults.
func TestWorkloadDefaults(t *testing.T) {
	const endpoints = `endpoints: ["10.0.0.1:80"]`
	tests := []struct {
		name string
		env  map[string]string
		top  string
		want Workload
	}{
		{"nothing", nil, "", Workload{CanonicalRevision: "latest", ClusterID: "Kubernetes", ClusterDomain: "cluster.local"}},
		{"downward api", map[string]string{"POD_NAME": "portcullis-7d9f8b6c5d-x2k4p", "POD_NAMESPACE": "edge"}, "",
			Workload{Name: "portcullis", Namespace: "edge", CanonicalService: "portcullis", CanonicalRevision: "latest",
				ClusterID: "Kubernetes", ClusterDomain: "cluster.local"}},
		{"explicit variable wins over the pod", map[string]string{"PORTCULLIS_WORKLOAD_NAME": "edge-ds", "POD_NAME": "edge-ds-x2k4p"}, "",
			Workload{Name: "edge-ds", CanonicalService: "edge-ds", CanonicalRevision: "latest", ClusterID: "Kubernetes", ClusterDomain: "cluster.local"}},
		{"file wins", map[string]string{"PORTCULLIS_WORKLOAD_NAME": "from-env", "POD_NAMESPACE": "env-ns"},
			"workload: { name: gw, namespace: edge, app: portcullis, version: v3, cluster_id: east, cluster_domain: corp.example }",
			Workload{Name: "gw", Namespace: "edge", App: "portcullis", Version: "v3", CanonicalService: "portcullis",
				CanonicalRevision: "v3", ClusterID: "east", ClusterDomain: "corp.example"}},
		{"canonical given", nil, "workload: { name: gw, app: portcullis, canonical_service: edge, canonical_revision: r7 }",
			Workload{Name: "gw", App: "portcullis", CanonicalService: "edge", CanonicalRevision: "r7",
				ClusterID: "Kubernetes", ClusterDomain: "cluster.local"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range []string{"PORTCULLIS_WORKLOAD_NAME", "POD_NAME", "POD_NAMESPACE"} {
				t.Setenv(v, tt.env[v])
			}
			cfg, err := Parse("routes.yaml", []byte(workloadFile(tt.top, endpoints)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.File.Workload; got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestWorkloadFromBadEnvironment names the variable a bad value came from.
func TestWorkloadFromBadEnvironment(t *testing.T) {
	t.Setenv("PORTCULLIS_WORKLOAD_NAME", "")
	t.Setenv("POD_NAME", "Edge_GW")
	t.Setenv("POD_NAMESPACE", "-edge")
	_, err := Parse("routes.yaml", []byte(workloadFile("", `endpoints: ["10.0.0.1:80"]`)), nil)
	want := `routes.yaml: workload: name from $POD_NAME: "Edge_GW" has 'E': only lower-case letters, digits and '-' are allowed` + "\n" +
		`routes.yaml: workload: namespace from $POD_NAMESPACE: "-edge" must start and end with a letter or digit`
	if err == nil || err.Error() != want {
		t.Errorf("got error:\n%v\nwant:\n%s", err, want)
	}
}

// TestUpstreamService finds the Service an upstream stands for, from its
// service key or from endpoints that all name it, and its name in DNS.
func TestUpstreamService(t *testing.T) {
	tests := []struct {
		name, top, upstream      string
		service, namespace, host string
	}{
		{"none", "", `endpoints: ["10.0.0.1:80"]`, "", "", ""},
		{"namespace alone", "", `namespace: shop, endpoints: ["10.0.0.1:80"]`, "", "shop", ""},
		{"service key", "", `namespace: shop, service: api, endpoints: ["10.0.0.1:80"]`, "api", "shop", "api.shop.svc.cluster.local"},
		{"fqdn endpoints", "", `endpoints: ["api.shop.svc.cluster.local:80", "API.shop.svc.cluster.local.:80"]`, "api", "shop", "api.shop.svc.cluster.local"},
		{"short endpoint", "", `endpoints: ["api.shop.svc:8080"]`, "api", "shop", "api.shop.svc.cluster.local"},
		{"same namespace given", "", `namespace: shop, endpoints: ["api.shop.svc:8080"]`, "api", "shop", "api.shop.svc.cluster.local"},
		{"key wins over endpoints", "", `namespace: shop, service: carts, endpoints: ["api.shop.svc:8080"]`, "carts", "shop", "carts.shop.svc.cluster.local"},
		{"cluster domain", "workload: { cluster_domain: corp.example }", `endpoints: ["api.shop.svc.corp.example:80"]`, "api", "shop", "api.shop.svc.corp.example"},
		{"foreign domain", "workload: { cluster_domain: corp.example }", `endpoints: ["api.shop.svc.cluster.local:80"]`, "", "", ""},
		{"mixed endpoints", "", `endpoints: ["api.shop.svc:80", "10.0.0.1:80"]`, "", "", ""},
		{"two services", "", `endpoints: ["api.shop.svc:80", "carts.shop.svc:80"]`, "", "", ""},
		{"pod of a headless service", "", `endpoints: ["api-0.api.shop.svc.cluster.local:80"]`, "", "", ""},
		{"not a service name", "", `endpoints: ["0api.shop.svc:80"]`, "", "", ""},
		{"svc alone", "", `endpoints: ["shop.svc:80"]`, "", "", ""},
		{"builtin", "", `namespace: shop, service: api, builtin: echo`, "api", "shop", "api.shop.svc.cluster.local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("routes.yaml", []byte(workloadFile(tt.top, tt.upstream)), nil)
			if err != nil {
				t.Fatal(err)
			}
			u := cfg.Upstreams["up"]
			if u.Service != tt.service || u.Namespace != tt.namespace || u.ServiceHost != tt.host {
				t.Errorf("got service %q namespace %q host %q, want %q %q %q", u.Service, u.Namespace, u.ServiceHost, tt.service, tt.namespace, tt.host)
			}
		})
	}
}
