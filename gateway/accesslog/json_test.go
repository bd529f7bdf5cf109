package accesslog

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// allFields are the keys AppendJSON writes, in fields.go's order.
var allFields = []string{
	FieldStartTime, FieldRouteName, FieldMethod, FieldPath, FieldProtocol,
	FieldResponseCode, FieldResponseFlags, FieldResponseCodeDetails,
	FieldConnectionTerminationDetails, FieldBytesReceived, FieldBytesSent,
	FieldDynamicMetadata, FieldDuration, FieldUpstreamServiceTime, FieldXForwardedFor, FieldUserAgent,
	FieldRequestID, FieldAuthority, FieldUpstreamHost, FieldUpstreamCluster,
	FieldUpstreamLocalAddress, FieldDownstreamLocalAddress,
	FieldDownstreamRemoteAddress, FieldRequestedServerName,
	FieldUpstreamTransportFailureReason, FieldVirtualHost,
	FieldDownstreamPeerURISAN, FieldDownstreamPeerSubject, FieldRewrittenPath,
	FieldDownstreamTLSVersion, FieldUpstreamPeerURISAN, FieldUpstreamTLSVersion,
}

// decodeJSON checks that line is one JSON object ending in a newline and
// returns its fields and its keys in order.
func decodeJSON(t testing.TB, line []byte) (map[string]any, []string) {
	t.Helper()
	if !bytes.HasSuffix(line, []byte("}\n")) || bytes.Count(line, []byte("\n")) != 1 {
		t.Fatalf("got %q, want one object and one newline", line)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("got invalid JSON %q: %v", line, err)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	var keys []string
	dec.Token() // {
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip any
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return m, keys
}

func TestAppendJSONKeys(t *testing.T) {
	_, keys := decodeJSON(t, AppendJSON(nil, fullRecord()))
	want := slices.Clone(allFields)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("got keys %v, want %v", keys, want)
	}
}

func TestAppendJSONValues(t *testing.T) {
	full, _ := decodeJSON(t, AppendJSON(nil, fullRecord()))
	empty, _ := decodeJSON(t, AppendJSON(nil, &Record{}))
	legacy, _ := decodeJSON(t, AppendJSON(nil, legacyRecord()))
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"start_time", full[FieldStartTime], "2024-05-24T12:34:56.789Z"},
		{"method", full[FieldMethod], "GET"},
		{"path is the one asked for", full[FieldPath], "/old?q=1"},
		{"rewritten_path", full[FieldRewrittenPath], "/new?q=1"},
		{"path without a rewrite", legacy[FieldPath], "/allowed-path/resource"},
		{"no rewritten_path without a rewrite", legacy[FieldRewrittenPath], nil},
		{"response_code", full[FieldResponseCode], 503.0},
		{"response_flags", full[FieldResponseFlags], "UH,URX"},
		{"bytes_sent", full[FieldBytesSent], 1234.0},
		{"duration", full[FieldDuration], 56.0},
		{"upstream_service_time measured", full[FieldUpstreamServiceTime], "55"},
		{"upstream_service_time header", legacy[FieldUpstreamServiceTime], "55"},
		{"user_agent first value", full[FieldUserAgent], "Mozilla/5.0"},
		{"request_id from record", full[FieldRequestID], "req-1"},
		{"request_id from header", legacy[FieldRequestID], "12345-abcde-67890-fghij"},
		{"x_forwarded_for", full[FieldXForwardedFor], "10.0.0.1"},
		{"virtual_host", full[FieldVirtualHost], "vh"},
		{"downstream_peer_uri_san", full[FieldDownstreamPeerURISAN], "spiffe://cluster.local/ns/a/sa/b"},
		{"downstream_peer_subject", full[FieldDownstreamPeerSubject], "CN=b,O=cluster.local"},
		{"empty downstream_peer_subject", empty[FieldDownstreamPeerSubject], nil},
		{"downstream_tls_version", full[FieldDownstreamTLSVersion], "TLSv1.3"},
		{"upstream_peer_uri_san", full[FieldUpstreamPeerURISAN], "spiffe://cluster.local/ns/app/sa/app"},
		{"upstream_tls_version", full[FieldUpstreamTLSVersion], "TLSv1.3"},
		{"empty upstream_peer_uri_san", empty[FieldUpstreamPeerURISAN], nil},
		{"empty start_time", empty[FieldStartTime], nil},
		{"empty method", empty[FieldMethod], nil},
		{"empty response_code", empty[FieldResponseCode], 0.0},
		{"empty response_flags", empty[FieldResponseFlags], "-"},
		{"empty upstream_service_time", empty[FieldUpstreamServiceTime], nil},
		{"empty user_agent", empty[FieldUserAgent], nil},
		{"empty dynamic_metadata", empty[FieldDynamicMetadata], nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

// TestAppendJSONMetadata: what plugins record is one object per namespace,
// in the order first set, whatever bytes its values hold.
func TestAppendJSONMetadata(t *testing.T) {
	line := AppendJSON(nil, fullRecord())
	want := `"dynamic_metadata":{"portcullis.waf":{"rule_ids":"941100,949110","note":"a \"quoted\" value"},"envoy.filters.http.rbac":{"shadow_engine_result":"denied"}}`
	if !bytes.Contains(line, []byte(want)) {
		t.Errorf("got %s\nwant it to hold %s", line, want)
	}
	full, _ := decodeJSON(t, line)
	md, _ := full[FieldDynamicMetadata].(map[string]any)
	if waf, _ := md["portcullis.waf"].(map[string]any); waf["note"] != `a "quoted" value` {
		t.Errorf("got %#v", md)
	}
}

func TestAppendJSONHostile(t *testing.T) {
	tests := []struct {
		name, value string
	}{
		{"quotes", `"},"admin":true,"x":"`},
		{"backslashes", `\\\"\`},
		{"newline", "a\nb\r\n"},
		{"control", "\x00\x01\x1b[2J\x7f\b\f"},
		{"invalid utf-8", "a\xff\xfeb\xc3"},
		{"truncated rune", "\xe2\x98"},
		{"line separators", "a\u2028b\u2029c"},
		{"unicode", "héllo ☃ 🎉"},
		{"replacement char", "\ufffd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Record{
				RequestHeader: http.Header{"User-Agent": {tt.value}},
				Path:          tt.value,
				RouteName:     tt.value,
			}
			line := AppendJSON(nil, r)
			m, _ := decodeJSON(t, line)
			want := string([]rune(tt.value)) // each invalid byte becomes U+FFFD
			for _, key := range []string{FieldUserAgent, FieldPath, FieldRouteName} {
				if m[key] != want {
					t.Errorf("%s: got %q, want %q", key, m[key], want)
				}
			}
		})
	}
}

// TestAppendJSONAppends checks that AppendJSON keeps what dst held.
func TestAppendJSONAppends(t *testing.T) {
	got := AppendJSON([]byte("prefix "), &Record{})
	if !bytes.HasPrefix(got, []byte(`prefix {"authority":null,`)) {
		t.Errorf("got %q, want it to start with %q", got, `prefix {"authority":null,`)
	}
}
