package metrics

import (
	"testing"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// TestObserveWireBytes checks that the byte histograms count the header
// with the body, as Istio's stats filter counts wire bytes: a GET without
// a body is not 0.
func TestObserveWireBytes(t *testing.T) {
	m := New()
	m.Observe(&accesslog.Record{ResponseCode: 200, RequestHeaderBytes: 70, ResponseHeaderBytes: 90, BytesSent: 5}, shopLabels)
	m.Observe(&accesslog.Record{ResponseCode: 200, RequestHeaderBytes: 100, BytesReceived: 30, ResponseHeaderBytes: 90}, shopLabels)
	fams := scrape(t, m)
	for _, tt := range []struct {
		family string
		sum    float64
	}{
		{"istio_request_bytes", 70 + 100 + 30},
		{"istio_response_bytes", 90 + 5 + 90},
	} {
		if got := one(t, fams, tt.family, nil).GetHistogram().GetSampleSum(); got != tt.sum {
			t.Errorf("%s: got sum %v, want %v", tt.family, got, tt.sum)
		}
	}
}
