package accesslog

import (
	"net/http"
	"testing"
	"time"
)

// legacyRecord holds the values behind the line in DESIGN.md.
func legacyRecord() *Record {
	return &Record{
		Start:        time.Date(2024, 5, 24, 12, 34, 56, 789_000_000, time.UTC),
		Duration:     56 * time.Millisecond,
		Method:       "GET",
		Path:         "/allowed-path/resource",
		Protocol:     "HTTP/1.1",
		Authority:    "my-app.service",
		ResponseCode: 200,
		BytesSent:    1234,
		RequestHeader: http.Header{
			"X-Forwarded-For": {"10.0.0.1"},
			"User-Agent":      {"Mozilla/5.0"},
			"X-Request-Id":    {"12345-abcde-67890-fghij"},
		},
		ResponseHeader:          http.Header{"X-Envoy-Upstream-Service-Time": {"55"}},
		UpstreamHost:            "10.0.0.2:8080",
		UpstreamCluster:         "outbound|8080||target-app-namespace.svc.cluster.local",
		DownstreamLocalAddress:  "10.0.0.3:80",
		DownstreamRemoteAddress: "10.0.0.1:12345",
		RequestedServerName:     "my-app",
	}
}

// istioRecord holds the values of the istio.io access-log example; the
// upstream time comes from the record rather than a header.
func istioRecord() *Record {
	return &Record{
		Start:                   time.Date(2020, 11, 25, 21, 26, 18, 409_000_000, time.UTC),
		Duration:                4 * time.Millisecond,
		UpstreamServiceTime:     4 * time.Millisecond,
		Method:                  "GET",
		Path:                    "/status/418",
		Protocol:                "HTTP/1.1",
		Authority:               "httpbin:8000",
		RequestHeader:           http.Header{"User-Agent": {"curl/7.73.0-DEV"}},
		RequestID:               "84961386-6d84-929d-98bd-c5aee93b5c88",
		ResponseCode:            418,
		ResponseCodeDetails:     "via_upstream",
		BytesSent:               135,
		RouteName:               "default",
		UpstreamCluster:         "outbound|8000||httpbin.foo.svc.cluster.local",
		UpstreamHost:            "10.44.1.27:80",
		UpstreamLocalAddress:    "10.44.1.23:37652",
		DownstreamLocalAddress:  "10.0.45.184:8000",
		DownstreamRemoteAddress: "10.44.1.23:46520",
	}
}

// envoyRecord holds the values of the example line in Envoy's access-log
// documentation.
func envoyRecord() *Record {
	return &Record{
		Start:         time.Date(2016, 4, 15, 20, 17, 0, 310_000_000, time.UTC),
		Duration:      226 * time.Millisecond,
		Method:        "POST",
		Path:          "/api/v1/locations",
		Protocol:      "HTTP/2",
		Authority:     "locations",
		ResponseCode:  204,
		BytesReceived: 154,
		RequestHeader: http.Header{
			"X-Forwarded-For": {"10.0.35.28"},
			"User-Agent":      {"nsq2http"},
			"X-Request-Id":    {"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2"},
		},
		ResponseHeader: http.Header{"X-Envoy-Upstream-Service-Time": {"100"}},
		UpstreamHost:   "tcp://10.0.2.1:80",
	}
}

func TestPresets(t *testing.T) {
	tests := []struct {
		preset string
		record *Record
		want   string
	}{
		{"istio-legacy", legacyRecord(), `[2024-05-24T12:34:56.789Z] "GET /allowed-path/resource HTTP/1.1" 200 - "-" "-" 0 1234 56 55 "10.0.0.1" "Mozilla/5.0" "12345-abcde-67890-fghij" "my-app.service" "10.0.0.2:8080" outbound|8080||target-app-namespace.svc.cluster.local - 10.0.0.3:80 10.0.0.1:12345 my-app` + "\n"},
		{"istio", istioRecord(), `[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default` + "\n"},
		{"envoy", envoyRecord(), `[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"` + "\n"},
		{"istio-legacy", &Record{}, `[-] "- - -" 0 - "-" "-" 0 0 0 - "-" "-" "-" "-" "-" - - - - -` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.preset+"/"+tt.record.Method, func(t *testing.T) {
			text, ok := Preset(tt.preset)
			if !ok {
				t.Fatalf("Preset(%q): got false, want true", tt.preset)
			}
			got, err := format(text, tt.record)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	if _, ok := Preset("nginx"); ok {
		t.Errorf("Preset(%q): got true, want false", "nginx")
	}
}
