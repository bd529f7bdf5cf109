package accesslog

import (
	"github.com/portcullis-gw/portcullis/plugins"

	"net/http"
	"time"
)

// fullRecord returns a record with every field set, so that each operator
// has a value to print.
func fullRecord() *Record {
	return &Record{
		UpstreamWireBytesSent:     4096,
		UpstreamWireBytesReceived: 512,
		Metadata: []plugins.MetadataEntry{
			{Namespace: "portcullis.waf", Key: "rule_ids", Value: "941100,949110"},
			{Namespace: "envoy.filters.http.rbac", Key: "shadow_engine_result", Value: "denied"},
			{Namespace: "portcullis.waf", Key: "note", Value: `a "quoted" value`},
		},
		Start:               time.Date(2024, 5, 24, 12, 34, 56, 789123456, time.UTC),
		Duration:            56*time.Millisecond + 900*time.Microsecond,
		UpstreamServiceTime: 55 * time.Millisecond,
		Method:              "GET",
		Path:                "/new?q=1",
		OriginalPath:        "/old?q=1",
		Protocol:            "HTTP/2",
		Scheme:              "https",
		Authority:           "my-app.service",
		RequestHeader: http.Header{
			"User-Agent":      {"Mozilla/5.0", "second"},
			"X-Forwarded-For": {"10.0.0.1"},
			":protocol":       {"websocket"},
		},
		ResponseHeader:                 http.Header{"Content-Type": {"text/plain"}},
		ResponseTrailer:                http.Header{"Grpc-Status": {"0"}},
		RequestID:                      "req-1",
		ResponseCode:                   503,
		Flags:                          NoHealthyUpstream | UpstreamRetryLimitExceeded,
		ResponseCodeDetails:            "via_upstream",
		ConnectionTerminationDetails:   "idle",
		UpstreamTransportFailureReason: "tls handshake",
		BytesReceived:                  12,
		BytesSent:                      1234,
		RequestHeaderBytes:             310,
		ResponseHeaderBytes:            120,
		RouteName:                      "api",
		VirtualHost:                    "vh",
		UpstreamCluster:                "outbound|8080||app.ns.svc.cluster.local",
		UpstreamHost:                   "10.0.0.2:8080",
		UpstreamLocalAddress:           "10.0.0.9:40000",
		UpstreamTLSVersion:             "TLSv1.3",
		UpstreamPeerURISAN:             "spiffe://cluster.local/ns/app/sa/app",
		DownstreamLocalAddress:         "[::1]:443",
		DownstreamRemoteAddress:        "10.0.0.1:12345",
		DownstreamDirectRemoteAddress:  "192.168.1.1:5555",
		RequestedServerName:            "my-app",
		DownstreamTLSVersion:           "TLSv1.3",
		DownstreamTLSCipher:            "TLS_AES_128_GCM_SHA256",
		DownstreamPeerURISAN:           "spiffe://cluster.local/ns/a/sa/b",
		DownstreamPeerSubject:          "CN=b,O=cluster.local",
	}
}

// format compiles and applies f, for tests whose formats are known good.
func format(f string, r *Record) (string, error) {
	c, err := Compile(f)
	if err != nil {
		return "", err
	}
	return string(c.Append(nil, r)), nil
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
