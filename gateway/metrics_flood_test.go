package gateway

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/portcullis-gw/portcullis/gateway/internal/loopbacktest"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsFloodBounded sends thousands of requests with random hosts
// (matching a wildcard virtual host, or none), methods, paths, status
// codes, gRPC statuses and failures, and checks that /metrics stays under
// its bound (257 label sets of Istio's request metrics: 256 and the
// overflow one, under 16 MiB and 18,000 lines) while every request is still
// counted exactly once.
func TestMetricsFloodBounded(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.Header.Get("X-Code"))
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Trailer", "Grpc-Status")
			w.WriteHeader(200)
			w.Header().Set("Grpc-Status", r.Header.Get("X-Grpc"))
			return
		}
		w.WriteHeader(code)
	})
	deadAddr := loopbacktest.RefusedAddr(t) // 503 UF
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "127.0.0.1:0" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - name: wild
    hosts: ["*.wild.test"]
    routes:
      - { name: dead, match: { path_prefix: /dead }, upstream: dead }
      - { name: fixed, match: { path_prefix: /fixed }, direct_response: { status: 204 } }
      - { name: app, match: { path_prefix: / }, upstream: app }
upstreams:
  - { name: app, endpoints: [%q] }
  - { name: dead, endpoints: [%q] }
`, be.addr(), deadAddr))
	base := tg.url("web")

	const n = 1500
	var sent atomic.Int64
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			defer c.CloseIdleConnections()
			for i := range jobs {
				req := floodRequest(base, i)
				resp, err := c.Do(req)
				if err != nil {
					t.Errorf("request %d: %v", i, err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sent.Add(1)
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	resp, err := http.Get("http://" + tg.AdminAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(page), "\n")
	t.Logf("%d requests: /metrics is %d bytes, %d lines", sent.Load(), len(page), lines)
	if len(page) > 16<<20 || lines > 18_000 {
		t.Errorf("/metrics: got %d bytes and %d lines, want at most 16 MiB and 18,000", len(page), lines)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(page)))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	var total, overflow float64
	hosts := map[string]bool{}
	series := fams["istio_requests_total"].GetMetric()
	for _, m := range series {
		v := m.GetCounter().GetValue()
		total += v
		for _, l := range m.GetLabel() {
			if l.GetName() == "destination_service" {
				hosts[l.GetValue()] = true
				if l.GetValue() == "overflow" {
					overflow += v
				}
			}
		}
	}
	var folded float64
	for _, m := range fams["portcullis_metrics_series_folded_total"].GetMetric() {
		folded += m.GetCounter().GetValue()
	}
	t.Logf("%d label sets, %d destination_service values, %v requests folded", len(series), len(hosts), folded)
	// A method written in lower case is refused for its request line
	// before routing, and counted there instead.
	var refused float64
	for _, m := range fams["portcullis_downstream_protocol_errors_total"].GetMetric() {
		refused += m.GetCounter().GetValue()
	}
	if total+refused != float64(sent.Load()) || refused == 0 {
		t.Errorf("istio_requests_total sums to %v and protocol errors to %v, want %d together (every request once)",
			total, refused, sent.Load())
	}
	for _, name := range []string{"istio_request_duration_milliseconds", "istio_request_bytes", "istio_response_bytes"} {
		var count uint64
		for _, m := range fams[name].GetMetric() {
			count += m.GetHistogram().GetSampleCount()
		}
		if float64(count) != total {
			t.Errorf("%s counts %d, want %v as istio_requests_total", name, count, total)
		}
	}
	for h := range hosts {
		if strings.HasSuffix(h, ".nowhere.test") {
			t.Errorf("destination_service %q: a host that matched no virtual host has a label value of its own", h)
		}
	}
	if len(series) > 257 {
		t.Errorf("got %d label sets, want at most 257", len(series))
	}
	if folded == 0 || overflow != folded {
		t.Errorf("overflow series counts %v, folded counter %v; want them equal and above zero", overflow, folded)
	}
}

// floodRequest makes request i of the flood: a random host (one the
// wildcard virtual host matches, or one that matches none), method, path,
// status the backend answers with, and protocol.
func floodRequest(base string, i int) *http.Request {
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO", "get"}
	paths := []string{"/", "/a/b", "/dead/x", "/fixed", "/x/../../y", "/a/%2e%2E/", "/" + strconv.Itoa(rand.IntN(1e6))}
	req, err := http.NewRequest(methods[rand.IntN(len(methods))], base+"/", nil)
	if err != nil {
		panic(err) // base is the gateway's own URL
	}
	req.URL.Opaque = paths[rand.IntN(len(paths))] // sent as written
	if rand.IntN(4) == 0 {
		req.Host = fmt.Sprintf("h%d.nowhere.test", i)
	} else {
		req.Host = fmt.Sprintf("h%d.wild.test:%d", i, 1+rand.IntN(65535))
	}
	req.Header.Set("X-Code", strconv.Itoa(200+rand.IntN(400)))
	if rand.IntN(3) == 0 {
		req.Header.Set("Content-Type", "application/grpc")
		req.Header.Set("X-Grpc", strconv.Itoa(rand.IntN(20)))
	}
	return req
}

// TestMetricsKeepRoomForUpstreams checks that label sets a client can vary
// at will (hosts under a wildcard virtual host that route nowhere) cannot
// use up the bound on label sets: an upstream's own 503 still gets its
// series afterwards.
func TestMetricsKeepRoomForUpstreams(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/app/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "127.0.0.1:0" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - { name: wild, hosts: ["*.wild.test"], routes: [ { name: app, match: { path_prefix: /app }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, be.addr()))
	do := func(host, path string) {
		req, _ := http.NewRequest("GET", tg.url("web")+path, nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	do("a.wild.test", "/app/ok")
	for i := range 300 {
		do(fmt.Sprintf("h%d.wild.test", i), "/nothing")
	}
	do("a.wild.test", "/app/fail")
	resp, err := http.Get("http://" + tg.AdminAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, l := range strings.Split(string(page), "\n") {
		if strings.HasPrefix(l, "istio_requests_total{") && strings.Contains(l, `destination_service_name="app"`) &&
			strings.Contains(l, `response_code="503"`) {
			return
		}
	}
	t.Error("the upstream's 503 has no series of its own: it was folded into overflow")
}
