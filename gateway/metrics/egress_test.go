package metrics

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// gathered sums the series of metric name in reg and counts them.
func gathered(t *testing.T, reg *prometheus.Registry, name string) (sum float64, series int) {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
				series++
			}
		}
	}
	return sum, series
}

func TestEgressTCPMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := NewEgress(reg)
	l := Labels{DestinationService: "api.example.com", SourcePrincipal: "spiffe://cluster.local/ns/a/sa/b"}
	e.Opened(l)
	e.Closed(l, 0, 10, 20)
	if sent, _ := gathered(t, reg, "istio_tcp_sent_bytes_total"); sent != 20 {
		t.Errorf("sent: got %v, want 20", sent)
	}
	if received, _ := gathered(t, reg, "istio_tcp_received_bytes_total"); received != 10 {
		t.Errorf("received: got %v, want 10", received)
	}
	// Past maxEgressDestinations, destinations fold into one series.
	for i := range maxEgressDestinations + 10 {
		e.Opened(Labels{DestinationService: fmt.Sprintf("d%d.example.com", i)})
	}
	if _, n := gathered(t, reg, "istio_tcp_connections_opened_total"); n != maxEgressDestinations+1 {
		t.Errorf("got %d series, want %d and the overflow one", n, maxEgressDestinations)
	}
	lv := e.values(Labels{}, 0)
	if len(lv) != len(tcpLabels) || tcpLabels[len(tcpLabels)-3] != "request_protocol" || lv[len(lv)-3] != "tcp" {
		t.Errorf("got labels %v for %v, want request_protocol tcp", lv, tcpLabels)
	}
}
