package gateway

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/gateway/internal/loopbacktest"
)

// workloadYAML is a gateway that says who it is, in front of three
// upstreams: a cluster Service found from its endpoint's name, one named
// by the service key with Kubernetes' recommended labels, and an upstream
// that is no Service.
const workloadYAML = `
admin: { address: "127.0.0.1:0" }
workload: { name: portcullis, namespace: edge, app: portcullis, version: v1 }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - name: shop
    hosts: ["shop.example.com"]
    routes:
      - { name: api, match: { path_prefix: /api/ }, upstream: shop-api }
      - { name: reviews, match: { path_prefix: /reviews/ }, upstream: reviews }
      - { name: plain, match: { path_prefix: /plain/ }, upstream: plain }
upstreams:
  - name: shop-api
    endpoints: ["shop-api.shop.svc.cluster.local:%[1]s"]
    workload: shop-api-v1
    labels: { app: shop-api, version: v1 }
  - name: reviews
    service: reviews
    namespace: bookinfo
    workload: reviews-v2
    labels: { app.kubernetes.io/name: reviews, app.kubernetes.io/version: v2, service.istio.io/canonical-name: reviews-svc }
    endpoints: ["127.0.0.1:%[2]s"]
  - name: plain
    endpoints: ["127.0.0.1:%[2]s"]
`

// workloadGateway serves workloadYAML, its cluster Service's name resolved
// by a DNS server on loopback, with the access log in the text format.
func workloadGateway(t *testing.T, logText string) (tg *testGateway, apiPort, otherPort string) {
	t.Helper()
	api := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/fail") {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	other := newBackend(t, nil)
	_, apiPort, _ = net.SplitHostPort(api.addr())
	_, otherPort, _ = net.SplitHostPort(other.addr())
	dns := loopbacktest.NewDNS(t)
	dns.Set("shop-api.shop.svc.cluster.local", "127.0.0.1")
	cfg := parseT(t, fmt.Sprintf(workloadYAML, apiPort, otherPort))
	tg = serveWith(t, cfg, accesslog.Options{Text: logText, FlushInterval: -1}, Options{
		Log:      zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
		Resolver: dns.Resolver(),
	})
	return tg, apiPort, otherPort
}

// workloadTraffic sends the requests the dashboards' panels are checked
// against, and returns how many it sent.
func workloadTraffic(t *testing.T, tg *testGateway) int {
	t.Helper()
	reqs := []struct {
		host, path string
		code       int
	}{
		{"shop.example.com", "/api/items", 200},
		{"shop.example.com", "/api/fail", 503},
		{"shop.example.com", "/reviews/1", 200},
		{"shop.example.com", "/plain/x", 200},
		{"nowhere.example", "/", 404},
	}
	c := &http.Client{}
	for _, r := range reqs {
		if resp, _ := get(t, c, tg.url("web")+r.path, "Host", r.host); resp.StatusCode != r.code {
			t.Fatalf("%s%s: got %d, want %d", r.host, r.path, resp.StatusCode, r.code)
		}
	}
	return len(reqs)
}

// scrapeAdmin fetches an admin page of metrics as Prometheus does and
// parses it.
func scrapeAdmin(t *testing.T, tg *testGateway, path string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + tg.AdminAddr().String() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: got %d, want 200", path, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return fams
}

// seriesLabels returns the label sets of a family's series.
func seriesLabels(f *dto.MetricFamily) []map[string]string {
	var out []map[string]string
	for _, m := range f.GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		out = append(out, l)
	}
	return out
}

// requestsCounted sums istio_requests_total.
func requestsCounted(fams map[string]*dto.MetricFamily) int {
	n := 0.0
	for _, m := range fams["istio_requests_total"].GetMetric() {
		n += m.GetCounter().GetValue()
	}
	return int(n)
}

// dashboardPanel is one query of Istio's Grafana dashboards, as
// manifests/addons/dashboards/istio-{mesh-dashboard.gen,service-dashboard,
// workload-dashboard}.json write it in istio/istio at 86c9f01f (2026-08-22),
// or a dashboard variable's query. The HTTP panels are all here; TCP ones
// are left out, since the gateway proxies no plain TCP.
type dashboardPanel struct {
	dashboard, panel, metric string
	// fixed are the query's label matchers on constant values. The
	// dashboards' $qrep (reporter) is set to source, the reporter a
	// gateway is in Istio.
	fixed string
	// vars are the labels the query matches against dashboard variables
	// (the service, workload, namespace a user picks) and by those it
	// groups by (le aside): each needs a value other than unknown.
	vars string
	// cannot says why the query cannot fill from a gateway's series;
	// empty when it must.
	cannot string
}

// dashboardPanels lists the queries; "non-mTLS" and "mTLS" are the two
// queries of a panel split on connection_security_policy or
// destination_principal.
var dashboardPanels = []dashboardPanel{
	{"mesh", "Traffic Volume", "istio_requests_total", `reporter=~"source|waypoint"`, "", ""},
	{"mesh", "Success Rate", "istio_requests_total", `reporter=~"source|waypoint",response_code!~"5.."`, "", ""},
	{"mesh", "4xxs", "istio_requests_total", `reporter=~"source|waypoint",response_code=~"4.."`, "", ""},
	{"mesh", "5xxs", "istio_requests_total", `reporter=~"source|waypoint",response_code=~"5.."`, "", ""},
	{"mesh", "HTTP/gRPC Workloads: requests", "istio_requests_total", `reporter=~"source|waypoint"`, "destination_workload destination_workload_namespace destination_service", ""},
	{"mesh", "HTTP/gRPC Workloads: latency", "istio_request_duration_milliseconds", `reporter=~"source|waypoint"`, "destination_workload destination_workload_namespace", ""},
	{"mesh", "HTTP/gRPC Workloads: success", "istio_requests_total", `reporter=~"source|waypoint",response_code!~"5.."`, "destination_workload destination_workload_namespace", ""},

	{"service", "variable service", "istio_requests_total", ``, "destination_service", ""},
	{"service", "variable srccluster", "istio_requests_total", `reporter=~"source"`, "destination_service source_cluster", ""},
	{"service", "variable srcns", "istio_requests_total", `reporter=~"source"`, "destination_service source_workload_namespace", ""},
	{"service", "variable srcwl", "istio_requests_total", `reporter=~"source"`, "destination_service source_workload_namespace source_workload", ""},
	{"service", "Client Request Volume", "istio_requests_total", `reporter=~"source"`, "destination_service", ""},
	{"service", "Client Success Rate (non-5xx responses)", "istio_requests_total", `reporter=~"source",response_code!~"5.*"`, "destination_service", ""},
	{"service", "Client Request Duration", "istio_request_duration_milliseconds", `reporter=~"source"`, "destination_service", ""},
	{"service", "Incoming Requests By Source And Response Code, non-mTLS", "istio_requests_total", `reporter=~"source",connection_security_policy!="mutual_tls"`, "destination_service source_workload source_workload_namespace response_code", ""},
	{"service", "Incoming Success Rate (non-5xx responses) By Source, non-mTLS", "istio_requests_total", `reporter=~"source",connection_security_policy!="mutual_tls",response_code!~"5.*"`, "destination_service source_workload source_workload_namespace", ""},
	{"service", "Incoming Request Duration By Source, non-mTLS", "istio_request_duration_milliseconds", `reporter=~"source",connection_security_policy!="mutual_tls"`, "destination_service source_workload source_workload_namespace", ""},
	{"service", "Incoming Request Size By Source, non-mTLS", "istio_request_bytes", `reporter=~"source",connection_security_policy!="mutual_tls"`, "destination_service source_workload source_workload_namespace", ""},
	{"service", "Response Size By Source, non-mTLS", "istio_response_bytes", `reporter=~"source",connection_security_policy!="mutual_tls"`, "destination_service source_workload source_workload_namespace", ""},
	{"service", "Incoming … By Source, mTLS (5 panels)", "istio_requests_total", `connection_security_policy="mutual_tls"`, "", "Istio writes mutual_tls only as the destination reporter"},
	{"service", "Server Request Volume, Success Rate, Duration", "istio_requests_total", `reporter="destination"`, "", "the backends' sidecars report these"},
	{"service", "Incoming … By Destination Workload (8 queries), variables dstcluster, dstns, dstwl", "istio_requests_total", `reporter="destination"`, "", "the backends' sidecars report these"},

	{"workload", "variable namespace", "istio_requests_total", ``, "destination_workload_namespace", ""},
	{"workload", "variable workload, as a destination", "istio_requests_total", ``, "destination_workload_namespace destination_workload", ""},
	{"workload", "variable workload, as a source", "istio_requests_total", ``, "source_workload_namespace source_workload", ""},
	{"workload", "variable srcns", "istio_requests_total", `reporter=~"source"`, "destination_workload destination_workload_namespace source_workload_namespace", ""},
	{"workload", "variable srcwl", "istio_requests_total", `reporter=~"source"`, "destination_workload destination_workload_namespace source_workload_namespace source_workload", ""},
	{"workload", "variable dstsvc", "istio_requests_total", `reporter="source"`, "source_workload source_workload_namespace destination_service", ""},
	{"workload", "Incoming Request Volume", "istio_requests_total", `reporter=~"source"`, "destination_workload destination_workload_namespace", ""},
	{"workload", "Incoming Success Rate (non-5xx responses)", "istio_requests_total", `reporter=~"source",response_code!~"5.*"`, "destination_workload destination_workload_namespace", ""},
	{"workload", "Request Duration", "istio_request_duration_milliseconds", `reporter=~"source"`, "destination_workload destination_workload_namespace", ""},
	{"workload", "Incoming Requests By Source And Response Code, non-mTLS", "istio_requests_total", `reporter=~"source",connection_security_policy!="mutual_tls"`, "destination_workload destination_workload_namespace source_workload source_workload_namespace response_code", ""},
	{"workload", "Incoming Success Rate (non-5xx responses) By Source, non-mTLS", "istio_requests_total", `reporter=~"source",connection_security_policy!="mutual_tls",response_code!~"5.*"`, "destination_workload destination_workload_namespace source_workload source_workload_namespace", ""},
	{"workload", "Incoming Request Duration By Source, non-mTLS", "istio_request_duration_milliseconds", `reporter=~"source",connection_security_policy!="mutual_tls"`, "destination_workload destination_workload_namespace source_workload source_workload_namespace", ""},
	{"workload", "Incoming Request Size By Source, non-mTLS", "istio_request_bytes", `reporter=~"source",connection_security_policy!="mutual_tls"`, "destination_workload destination_workload_namespace source_workload source_workload_namespace", ""},
	{"workload", "Response Size By Source, non-mTLS", "istio_response_bytes", `reporter=~"source",connection_security_policy!="mutual_tls"`, "destination_workload destination_workload_namespace source_workload source_workload_namespace", ""},
	{"workload", "Outgoing Requests By Destination And Response Code, non-mTLS", "istio_requests_total", `reporter="source",destination_principal!~"spiffe.*"`, "source_workload source_workload_namespace destination_service response_code", ""},
	{"workload", "Outgoing Success Rate (non-5xx responses) By Destination, non-mTLS", "istio_requests_total", `reporter="source",connection_security_policy!="mutual_tls",response_code!~"5.*"`, "source_workload source_workload_namespace destination_service", ""},
	{"workload", "Outgoing Request Duration By Destination, non-mTLS", "istio_request_duration_milliseconds", `reporter="source",connection_security_policy!="mutual_tls"`, "source_workload source_workload_namespace destination_service", ""},
	{"workload", "Outgoing Request Size By Destination, non-mTLS", "istio_request_bytes", `reporter="source",connection_security_policy!="mutual_tls"`, "source_workload source_workload_namespace destination_service", ""},
	{"workload", "Response Size By Destination, non-mTLS", "istio_response_bytes", `reporter="source",connection_security_policy!="mutual_tls"`, "source_workload source_workload_namespace destination_service", ""},
	{"workload", "Outgoing Requests By Destination And Response Code, mTLS", "istio_requests_total", `reporter="source",destination_principal=~"spiffe.*"`, "", "needs mutual TLS to the upstream with the gateway's SPIFFE identity"},
	{"workload", "Incoming and Outgoing … mTLS (9 panels)", "istio_requests_total", `connection_security_policy="mutual_tls"`, "", "Istio writes mutual_tls only as the destination reporter"},
}

var matcherRE = regexp.MustCompile(`(\w+)(=~|!~|!=|=)"([^"]*)"`)

// matches reports whether labels satisfy the PromQL matchers, whose
// regular expressions are anchored as PromQL anchors them.
func matches(t *testing.T, labels map[string]string, matchers string) bool {
	for _, m := range matcherRE.FindAllStringSubmatch(matchers, -1) {
		v := labels[m[1]]
		switch m[2] {
		case "=":
			if v != m[3] {
				return false
			}
		case "!=":
			if v == m[3] {
				return false
			}
		default:
			re, err := regexp.Compile("^(?:" + m[3] + ")$")
			if err != nil {
				t.Fatal(err)
			}
			if re.MatchString(v) != (m[2] == "=~") {
				return false
			}
		}
	}
	return true
}

// TestDashboardLabels sends traffic through a gateway, scrapes both admin
// pages of metrics, and checks each query of Istio's dashboards that can
// fill at a gateway: a series matches it, and the labels it groups by or
// lets a user pick have values other than unknown. The queries that cannot
// fill are checked to find nothing, so that the table stays true.
func TestDashboardLabels(t *testing.T) {
	tg, _, _ := workloadGateway(t, "")
	sent := workloadTraffic(t, tg)
	var fams map[string]*dto.MetricFamily
	waitUntil(t, "every request counted", func() bool {
		fams = scrapeAdmin(t, tg, "/metrics")
		return requestsCounted(fams) == sent
	})
	for _, p := range dashboardPanels {
		t.Run(p.dashboard+"/"+p.panel, func(t *testing.T) {
			f := fams[p.metric]
			if f == nil {
				t.Fatalf("no %s on the page", p.metric)
			}
			found := 0
			for _, l := range seriesLabels(f) {
				if !matches(t, l, p.fixed) {
					continue
				}
				if p.cannot != "" {
					t.Errorf("got series %v for a query the table says cannot fill (%s)", l, p.cannot)
					continue
				}
				if slices.ContainsFunc(strings.Fields(p.vars), func(k string) bool { return l[k] == "" || l[k] == "unknown" }) {
					continue
				}
				found++
			}
			if found == 0 && p.cannot == "" {
				t.Errorf("no %s series with {%s} and known %s", p.metric, p.fixed, p.vars)
			}
		})
	}
}

// TestWorkloadLabelValues pins each upstream's label set: the gateway's own
// workload as the source, and as the destination what each upstream's
// definition says, read as Istio reads a pod's labels.
func TestWorkloadLabelValues(t *testing.T) {
	tg, _, _ := workloadGateway(t, "")
	sent := workloadTraffic(t, tg)
	var fams map[string]*dto.MetricFamily
	waitUntil(t, "every request counted", func() bool {
		fams = scrapeAdmin(t, tg, "/metrics")
		return requestsCounted(fams) == sent
	})
	source := map[string]string{
		"reporter": "source", "source_workload": "portcullis", "source_canonical_service": "portcullis",
		"source_canonical_revision": "v1", "source_workload_namespace": "edge", "source_principal": "unknown",
		"source_app": "portcullis", "source_version": "v1", "source_cluster": "Kubernetes",
		"destination_principal": "unknown", "request_protocol": "http", "grpc_response_status": "",
		"response_flags": "-", "connection_security_policy": "unknown",
	}
	want := map[string]map[string]string{
		"shop-api": {
			"destination_workload": "shop-api-v1", "destination_workload_namespace": "shop",
			"destination_app": "shop-api", "destination_version": "v1",
			"destination_service": "shop-api.shop.svc.cluster.local", "destination_service_name": "shop-api",
			"destination_service_namespace": "shop", "destination_canonical_service": "shop-api",
			"destination_canonical_revision": "v1", "destination_cluster": "Kubernetes",
		},
		"reviews": {
			"destination_workload": "reviews-v2", "destination_workload_namespace": "bookinfo",
			"destination_app": "reviews", "destination_version": "v2",
			"destination_service": "reviews.bookinfo.svc.cluster.local", "destination_service_name": "reviews",
			"destination_service_namespace": "bookinfo", "destination_canonical_service": "reviews-svc",
			"destination_canonical_revision": "v2", "destination_cluster": "Kubernetes",
		},
		"plain": {
			"destination_workload": "unknown", "destination_workload_namespace": "unknown",
			"destination_app": "unknown", "destination_version": "unknown",
			"destination_service": "plain", "destination_service_name": "plain",
			"destination_service_namespace": "unknown", "destination_canonical_service": "unknown",
			"destination_canonical_revision": "latest", "destination_cluster": "unknown",
		},
	}
	for name, dest := range want {
		t.Run(name, func(t *testing.T) {
			w := maps.Clone(source)
			maps.Copy(w, dest)
			w["response_code"] = "200"
			for _, l := range seriesLabels(fams["istio_requests_total"]) {
				if l["destination_service_name"] == name && l["response_code"] == "200" {
					if !maps.Equal(l, w) {
						t.Errorf("labels:\ngot  %v\nwant %v", l, w)
					}
					return
				}
			}
			t.Errorf("no series for %s", name)
		})
	}
}

// TestStatsPrometheus serves the same metrics at Envoy's /stats/prometheus
// as at /metrics, where Istio's scrape annotations and PodMonitors look.
func TestStatsPrometheus(t *testing.T) {
	tg, _, _ := workloadGateway(t, "")
	sent := workloadTraffic(t, tg)
	var metricsPage map[string]*dto.MetricFamily
	waitUntil(t, "every request counted", func() bool {
		metricsPage = scrapeAdmin(t, tg, "/metrics")
		return requestsCounted(metricsPage) == sent
	})
	statsPage := scrapeAdmin(t, tg, "/stats/prometheus")
	// The Go runtime's and process's own figures move between two
	// scrapes; the gateway's are still once its requests are counted.
	for name, f := range metricsPage {
		if !strings.HasPrefix(name, "istio_") && !strings.HasPrefix(name, "portcullis_upstream_") {
			continue
		}
		if got, want := fmt.Sprint(statsPage[name]), fmt.Sprint(f); got != want {
			t.Errorf("%s: /stats/prometheus has\n%s\nwant, as /metrics has,\n%s", name, got, want)
		}
	}
	if len(statsPage) < len(metricsPage) {
		t.Errorf("got %d families on /stats/prometheus, want the %d of /metrics", len(statsPage), len(metricsPage))
	}
}

// TestUpstreamClusterLog writes %UPSTREAM_CLUSTER% as Istio names a
// Service's cluster, outbound|<port>||<service FQDN>, and an upstream
// that is no Service by its name.
func TestUpstreamClusterLog(t *testing.T) {
	tg, apiPort, otherPort := workloadGateway(t, `"%REQ(:AUTHORITY)%" %RESPONSE_CODE% %UPSTREAM_CLUSTER% %UPSTREAM_CLUSTER_RAW% %ROUTE_NAME%`)
	sent := workloadTraffic(t, tg)
	want := []string{
		`"shop.example.com" 200 outbound|` + apiPort + `||shop-api.shop.svc.cluster.local outbound|` + apiPort + `||shop-api.shop.svc.cluster.local api`,
		`"shop.example.com" 503 outbound|` + apiPort + `||shop-api.shop.svc.cluster.local outbound|` + apiPort + `||shop-api.shop.svc.cluster.local api`,
		`"shop.example.com" 200 outbound|` + otherPort + `||reviews.bookinfo.svc.cluster.local outbound|` + otherPort + `||reviews.bookinfo.svc.cluster.local reviews`,
		`"shop.example.com" 200 outbound|` + otherPort + `||plain outbound|` + otherPort + `||plain plain`,
		`"nowhere.example" 404 - - -`,
	}
	var lines []string
	waitUntil(t, "every request logged", func() bool {
		b, _ := os.ReadFile(tg.logPath)
		lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		return len(lines) == sent
	})
	if !slices.Equal(lines, want) {
		t.Errorf("got lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestWorkloadReload puts a changed workload in force with a reload: the
// requests after it carry the new source labels.
func TestWorkloadReload(t *testing.T) {
	tg, apiPort, otherPort := workloadGateway(t, "")
	next := strings.NewReplacer(
		`workload: { name: portcullis,`, `workload: { name: portcullis-canary,`,
		`address: "127.0.0.1:0" } ]`, `address: "`+tg.Addr("web").String()+`" } ]`,
		`admin: { address: "127.0.0.1:0" }`, `admin: { address: "`+tg.AdminAddr().String()+`" }`,
	).Replace(fmt.Sprintf(workloadYAML, apiPort, otherPort))
	if err := tg.Reload(parseT(t, next)); err != nil {
		t.Fatal(err)
	}
	get(t, &http.Client{}, tg.url("web")+"/plain/x", "Host", "shop.example.com")
	waitUntil(t, "a series of the new workload", func() bool {
		for _, l := range seriesLabels(scrapeAdmin(t, tg, "/metrics")["istio_requests_total"]) {
			if l["source_workload"] == "portcullis-canary" && l["source_canonical_service"] == "portcullis" &&
				l["destination_service"] == "plain" {
				return true
			}
		}
		return false
	})
}
