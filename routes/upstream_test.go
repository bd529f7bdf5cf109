package routes

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestUpstreamFile checks what the upstream fields of testdata/good/
// upstreams.yaml decode to, the defaults the loader fills in beside them,
// and the retry policy of its routes.
func TestUpstreamFile(t *testing.T) {
	cfg, _, _, err := loadFixture(t, "testdata/good/upstreams.yaml")
	if err != nil {
		t.Fatalf("got error:\n%v", err)
	}
	defer cfg.Close()
	api, carts := cfg.Upstreams["shop-api"], cfg.Upstreams["carts"]
	routes := cfg.File.VirtualHosts[0].Routes
	checks := []struct {
		name      string
		got, want any
	}{
		{"addresses", api.Endpoints, []string{"10.0.0.1:8080", "10.0.0.2:8080", "shop-api.shop.svc.cluster.local:8080"}},
		{"weights", api.EndpointList, []Endpoint{
			{"10.0.0.1:8080", 1}, {"10.0.0.2:8080", 3}, {"shop-api.shop.svc.cluster.local:8080", 1},
		}},
		{"dns_refresh", api.DNSRefresh, Duration(10 * time.Second)},
		{"dns_refresh default", carts.DNSRefresh, Duration(5 * time.Second)},
		{"health", *api.Health, HealthCheck{
			Path: "/healthz?full=1", Interval: Duration(2 * time.Second), Timeout: Duration(500 * time.Millisecond),
			HealthyThreshold: 1, UnhealthyThreshold: 2,
			ExpectedStatuses: []StatusRange{{200, 299}, {418, 418}},
		}},
		{"health defaults", *carts.Health, HealthCheck{
			Path: "/ready", Interval: Duration(5 * time.Second), Timeout: Duration(time.Second),
			HealthyThreshold: 2, UnhealthyThreshold: 3, ExpectedStatuses: []StatusRange{{200, 399}},
		}},
		{"outlier", *api.Outlier, OutlierDetection{3, 2, Duration(10 * time.Second), Duration(time.Minute), 100}},
		{"outlier defaults", *carts.Outlier, OutlierDetection{5, 5, Duration(30 * time.Second), Duration(300 * time.Second), 50}},
		{"limits", api.Limits, UpstreamLimits{MaxRequests: 100, MaxPending: 10}},
		{"limits defaults", carts.Limits, UpstreamLimits{MaxRequests: 1024, MaxPending: 1024}},
		{"retry budget", api.RetryBudget, RetryBudget{Percent: 12.5, MinRetryConcurrency: 1}},
		{"retry budget defaults", carts.RetryBudget, RetryBudget{Percent: 20, MinRetryConcurrency: 3}},
		{"hash", *carts.Hash, HashPolicy{Cookie: "session"}},
		{"retries", *routes[0].Retries, RetryPolicy{
			Attempts: 3, On: []string{"connect-failure", "refused-stream", "reset", "503", "5xx", "gateway-error", "409"},
			PerTryTimeout: Duration(2 * time.Second), Backoff: Backoff{Duration(50 * time.Millisecond), Duration(time.Second)},
			RetryNonIdempotent: true,
		}},
		{"retries defaults", *routes[1].Retries, RetryPolicy{
			Attempts: 2, On: []string{"connect-failure", "refused-stream", "503"},
			Backoff: Backoff{Duration(25 * time.Millisecond), Duration(250 * time.Millisecond)},
		}},
		{"no retries", routes[2].Retries, (*RetryPolicy)(nil)},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %+v, want %+v", c.got, c.want)
			}
		})
	}
}

func TestStatusRange(t *testing.T) {
	tests := []struct {
		in      string
		want    StatusRange
		wantErr bool
	}{
		{in: "200", want: StatusRange{200, 200}},
		{in: "200-399", want: StatusRange{200, 399}},
		{in: "100-599", want: StatusRange{100, 599}},
		{in: "204-204", want: StatusRange{204, 204}},
		{in: "", wantErr: true},
		{in: "-", wantErr: true},
		{in: "200-", wantErr: true},
		{in: "-200", wantErr: true},
		{in: "099", wantErr: true},
		{in: "600", wantErr: true},
		{in: "+200", wantErr: true},
		{in: "2e2", wantErr: true},
		{in: "200-300-400", wantErr: true},
		{in: "300-200", wantErr: true},
		{in: " 200", wantErr: true},
		{in: "0200", wantErr: true},
		{in: "２００", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got StatusRange
			err := got.UnmarshalText([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if err == nil && got.String() != tt.in && tt.in != "204-204" {
				t.Errorf("got String %q, want %q", got.String(), tt.in)
			}
		})
	}
}

// TestEndpointJSON checks that /config shows endpoints as the file usually
// writes them: an address alone unless a weight was given.
func TestEndpointJSON(t *testing.T) {
	tests := []struct {
		name string
		in   []Endpoint
		want string
	}{
		{"plain", []Endpoint{{Address: "a:80", Weight: 1}}, `["a:80"]`},
		{"unset weight", []Endpoint{{Address: "a:80"}}, `["a:80"]`},
		{"weighted", []Endpoint{{Address: "a:80", Weight: 3}}, `[{"address":"a:80","weight":3}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}
