package accesslog

import (
	"bytes"
	"flag"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// istioJSON is Istio's default JSON access-log format, every key with the
// operator that fills it (EnvoyJSONLogFormatIstio in istio/istio's
// pilot/pkg/model/telemetry_logging.go).
var istioJSON = map[string]string{
	"start_time":                        "%START_TIME%",
	"route_name":                        "%ROUTE_NAME%",
	"method":                            "%REQ(:METHOD)%",
	"path":                              "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
	"protocol":                          "%PROTOCOL%",
	"response_code":                     "%RESPONSE_CODE%",
	"response_flags":                    "%RESPONSE_FLAGS%",
	"response_code_details":             "%RESPONSE_CODE_DETAILS%",
	"connection_termination_details":    "%CONNECTION_TERMINATION_DETAILS%",
	"bytes_received":                    "%BYTES_RECEIVED%",
	"bytes_sent":                        "%BYTES_SENT%",
	"duration":                          "%DURATION%",
	"upstream_service_time":             "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
	"x_forwarded_for":                   "%REQ(X-FORWARDED-FOR)%",
	"user_agent":                        "%REQ(USER-AGENT)%",
	"request_id":                        "%REQ(X-REQUEST-ID)%",
	"authority":                         "%REQ(:AUTHORITY)%",
	"upstream_host":                     "%UPSTREAM_HOST%",
	"upstream_cluster":                  "%UPSTREAM_CLUSTER%",
	"upstream_local_address":            "%UPSTREAM_LOCAL_ADDRESS%",
	"downstream_local_address":          "%DOWNSTREAM_LOCAL_ADDRESS%",
	"downstream_remote_address":         "%DOWNSTREAM_REMOTE_ADDRESS%",
	"requested_server_name":             "%REQUESTED_SERVER_NAME%",
	"upstream_transport_failure_reason": "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
}

// istioNumbers are the keys whose operators Envoy's JSON formatter writes
// as numbers; the others are strings, or null when the operator has no
// value.
var istioNumbers = []string{"response_code", "bytes_received", "bytes_sent", "duration"}

// jsonRecords are the records of the golden file: a proxied request whose
// path was rewritten, a connect failure, a local reply, and nothing at all.
func jsonRecords() []*Record {
	start := time.Date(2024, 5, 24, 12, 34, 56, 789_000_000, time.UTC)
	proxied := fullRecord()
	proxied.ResponseCode, proxied.Flags, proxied.ResponseCodeDetails = 200, 0, "via_upstream"
	proxied.ResponseHeader = http.Header{"X-Envoy-Upstream-Service-Time": {"55"}}
	proxied.UpstreamTransportFailureReason = ""
	return []*Record{
		proxied,
		{
			Start: start, Duration: 3 * time.Millisecond, UpstreamServiceTime: -1,
			Method: "POST", Path: "/orders", Protocol: "HTTP/2", Authority: "shop.example.com",
			RequestHeader: http.Header{"X-Forwarded-For": {"203.0.113.7, 10.0.0.1"}, "User-Agent": {"curl/8.5.0"}},
			RequestID:     "req-2", ResponseCode: 503, Flags: UpstreamConnectionFailure | UpstreamRetryLimitExceeded,
			ResponseCodeDetails:            "upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}",
			UpstreamTransportFailureReason: "delayed_connect_error:_Connection_refused",
			BytesReceived:                  17, BytesSent: 145, RouteName: "api", VirtualHost: "shop",
			UpstreamCluster: "outbound|8080||shop-api.shop.svc.cluster.local", UpstreamHost: "10.0.0.2:8080",
			DownstreamLocalAddress: "10.0.0.3:443", DownstreamRemoteAddress: "10.0.0.1:12345",
			RequestedServerName: "shop.example.com",
		},
		{
			Start: start, UpstreamServiceTime: -1, Method: "GET", Path: "/nowhere", Protocol: "HTTP/1.1",
			Authority: "unknown.example", RequestID: "req-3", ResponseCode: 404, Flags: NoRouteFound,
			ResponseCodeDetails: "route_not_found", DownstreamLocalAddress: "10.0.0.3:80", DownstreamRemoteAddress: "10.0.0.1:12346",
		},
		{UpstreamServiceTime: -1},
	}
}

// TestAppendJSONIsIstios checks the JSON log key by key against Istio's
// default JSON format: each of Istio's keys is there and holds what its
// operator gives for the same record, as Envoy's JSON formatter writes it.
func TestAppendJSONIsIstios(t *testing.T) {
	for i, r := range jsonRecords() {
		got, keys := decodeJSON(t, AppendJSON(nil, r))
		for key, op := range istioJSON {
			if !slices.Contains(keys, key) {
				t.Errorf("record %d: key %s missing", i, key)
				continue
			}
			text, err := format(`"`+op+`"`, r) // quoted: spaces stay as they are
			if err != nil {
				t.Fatalf("%s: %v", op, err)
			}
			var want any = strings.Trim(text, `"`)
			switch {
			case slices.Contains(istioNumbers, key):
				n, err := strconv.ParseFloat(want.(string), 64)
				if err != nil {
					t.Fatalf("%s printed %q, want a number", op, want)
				}
				want = n
			case want == "-" && key != "response_flags":
				want = nil
			}
			if got[key] != want {
				t.Errorf("record %d: %s: got %#v, want %#v as %s gives it", i, key, got[key], want, op)
			}
		}
	}
}

// TestAppendJSONGolden compares the JSON lines of jsonRecords with
// testdata/istio.json.golden; refresh it with -update.
func TestAppendJSONGolden(t *testing.T) {
	var got []byte
	for _, r := range jsonRecords() {
		got = AppendJSON(got, r)
	}
	const golden = "testdata/istio.json.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
