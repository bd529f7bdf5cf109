package accesslog

import (
	"net/http"
	"os"
	"testing"
)

func TestOperators(t *testing.T) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "-"
	}
	tests := []struct {
		format     string
		set, unset string
	}{
		{"%START_TIME%", "2024-05-24T12:34:56.789Z", "-"},
		{"%REQ(:METHOD)%", "GET", "-"},
		{"%REQ(:method)%", "GET", "-"},
		{"%REQ(:PATH)%", "/new?q=1", "-"},
		{"%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", "/old?q=1", "-"},
		{"%REQ(:AUTHORITY)%", "my-app.service", "-"},
		{"%REQ(HOST)%", "my-app.service", "-"},
		{"%REQ(:SCHEME)%", "https", "-"},
		{"%REQ(:PROTOCOL)%", "websocket", "-"},
		{"%REQ(USER-AGENT)%", "Mozilla/5.0", "-"},
		{"%REQ(user-agent)%", "Mozilla/5.0", "-"},
		{"%REQ(USER-AGENT):3%", "Moz", "-"},
		{"%REQ(X-MISSING?USER-AGENT):7%", "Mozilla", "-"},
		{"%REQ(X-MISSING)%", "-", "-"},
		{"%REQ(X-REQUEST-ID)%", "req-1", "-"},
		{"%RESP(CONTENT-TYPE)%", "text/plain", "-"},
		{"%RESP(:STATUS)%", "503", "-"},
		{"%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%", "55", "-"},
		{"%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME):1%", "5", "-"},
		{"%TRAILER(GRPC-STATUS)%", "0", "-"},
		{"%TRAILER(CONTENT-TYPE)%", "-", "-"},
		{"%PROTOCOL%", "HTTP/2", "-"},
		{"%RESPONSE_CODE%", "503", "0"},
		{"%RESPONSE_FLAGS%", "UH,URX", "-"},
		{"%RESPONSE_FLAGS_LONG%", "NoHealthyUpstream,UpstreamRetryLimitExceeded", "-"},
		{"%RESPONSE_CODE_DETAILS%", "via_upstream", "-"},
		{"%CONNECTION_TERMINATION_DETAILS%", "idle", "-"},
		{"%UPSTREAM_TRANSPORT_FAILURE_REASON%", `tls\x20handshake`, "-"},
		{`"%UPSTREAM_TRANSPORT_FAILURE_REASON%"`, `"tls handshake"`, `"-"`},
		{"%BYTES_RECEIVED%", "12", "0"},
		{"%UPSTREAM_WIRE_BYTES_SENT%", "4096", "-"},
		{"%UPSTREAM_WIRE_BYTES_RECEIVED%", "512", "-"},
		{"%BYTES_SENT%", "1234", "0"},
		{"%DURATION%", "56", "0"},
		{"%DOWNSTREAM_HEADER_BYTES_RECEIVED%", "310", "0"},
		{"%DOWNSTREAM_HEADER_BYTES_SENT%", "120", "0"},
		{"%DOWNSTREAM_WIRE_BYTES_RECEIVED%", "322", "0"},
		{"%DOWNSTREAM_WIRE_BYTES_SENT%", "1354", "0"},
		{"%REQUEST_DURATION%", "-", "-"},
		{"%RESPONSE_DURATION%", "-", "-"},
		{"%UPSTREAM_HOST%", "10.0.0.2:8080", "-"},
		{"%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", "10.0.0.2", "-"},
		{"%UPSTREAM_REMOTE_PORT%", "8080", "-"},
		{"%UPSTREAM_CLUSTER%", "outbound|8080||app.ns.svc.cluster.local", "-"},
		{"%UPSTREAM_CLUSTER_RAW%", "outbound|8080||app.ns.svc.cluster.local", "-"},
		{"%UPSTREAM_LOCAL_ADDRESS%", "10.0.0.9:40000", "-"},
		{"%UPSTREAM_LOCAL_PORT%", "40000", "-"},
		{"%DOWNSTREAM_LOCAL_ADDRESS%", "[::1]:443", "-"},
		{"%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%", "::1", "-"},
		{"%DOWNSTREAM_LOCAL_PORT%", "443", "-"},
		{"%DOWNSTREAM_REMOTE_ADDRESS%", "10.0.0.1:12345", "-"},
		{"%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", "10.0.0.1", "-"},
		{"%DOWNSTREAM_REMOTE_PORT%", "12345", "-"},
		{"%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%", "192.168.1.1:5555", "-"},
		{"%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%", "192.168.1.1", "-"},
		{"%DOWNSTREAM_DIRECT_REMOTE_PORT%", "5555", "-"},
		{"%REQUESTED_SERVER_NAME%", "my-app", "-"},
		{"%ROUTE_NAME%", "api", "-"},
		{"%ROUTE_NAME:2%", "ap", "-"},
		{"%VIRTUAL_CLUSTER_NAME%", "-", "-"},
		{"%DOWNSTREAM_TLS_VERSION%", "TLSv1.3", "-"},
		{"%DOWNSTREAM_TLS_CIPHER%", "TLS_AES_128_GCM_SHA256", "-"},
		{"%DOWNSTREAM_PEER_URI_SAN%", "spiffe://cluster.local/ns/a/sa/b", "-"},
		{"%DOWNSTREAM_PEER_SUBJECT%", "CN=b,O=cluster.local", "-"},
		{"%UPSTREAM_TLS_VERSION%", "TLSv1.3", "-"},
		{"%UPSTREAM_PEER_URI_SAN%", "spiffe://cluster.local/ns/app/sa/app", "-"},
		{"%DYNAMIC_METADATA(istio.mixer:status)%", "-", "-"},
		{"%DYNAMIC_METADATA(portcullis.waf:rule_ids)%", "941100,949110", "-"},
		{"%DYNAMIC_METADATA(portcullis.waf:rule_ids):6%", "941100", "-"},
		{"%DYNAMIC_METADATA(envoy.filters.http.rbac:shadow_engine_result)%", "denied", "-"},
		{`"%DYNAMIC_METADATA(portcullis.waf:note)%"`, `"a \x22quoted\x22 value"`, `"-"`},
		{"%DYNAMIC_METADATA(envoy.filters.http.rbac)%", `{\x22shadow_engine_result\x22:\x22denied\x22}`, "-"},
		{"%DYNAMIC_METADATA(portcullis.waf:missing)%", "-", "-"},
		{"%HOSTNAME%", host, host},
		{"100%%", "100%", "100%"},
		{"a%%b%PROTOCOL%%%", "a%bHTTP/2%", "a%b-%"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			f, err := Compile(tt.format)
			if err != nil {
				t.Fatalf("Compile: got error %v, want none", err)
			}
			if got := string(f.Append(nil, fullRecord())); got != tt.set {
				t.Errorf("set: got %q, want %q", got, tt.set)
			}
			if got := string(f.Append(nil, &Record{})); got != tt.unset {
				t.Errorf("unset: got %q, want %q", got, tt.unset)
			}
		})
	}
}

// TestHeaderPrecedence checks that a header the client sent wins over the
// record field standing in for it, as %REQ% reads headers in Envoy.
func TestHeaderPrecedence(t *testing.T) {
	tests := []struct {
		name   string
		format string
		header http.Header
		resp   http.Header
		want   string
	}{
		{"original path header", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", http.Header{"X-Envoy-Original-Path": {"/hdr"}}, nil, "/hdr"},
		{"request id header", "%REQ(X-REQUEST-ID)%", http.Header{"X-Request-Id": {"hdr-id"}}, nil, "hdr-id"},
		{"empty header falls back", "%REQ(X-REQUEST-ID)%", http.Header{"X-Request-Id": {""}}, nil, "req-1"},
		{"upstream time header", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%", nil, http.Header{"X-Envoy-Upstream-Service-Time": {"7"}}, "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullRecord()
			r.RequestHeader, r.ResponseHeader = tt.header, tt.resp
			got, err := format(tt.format, r)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUpstreamTime(t *testing.T) {
	tests := []struct {
		name    string
		d       int64 // milliseconds
		details string
		want    string
	}{
		{"measured", 12, "", "12"},
		{"zero from upstream", 0, "via_upstream", "0"},
		{"zero local reply", 0, "route_not_found", "-"},
		{"negative", -1, "via_upstream", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Record{ResponseCodeDetails: tt.details}
			r.UpstreamServiceTime = msDuration(tt.d)
			got, err := format("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%", r)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
