package metrics

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// tcpLabels are Istio's labels of its TCP metrics: the HTTP ones without
// response_code and grpc_response_status.
var tcpLabels = slices.DeleteFunc(slices.Clone(istioLabels), func(s string) bool {
	return s == "response_code" || s == "grpc_response_status"
})

// maxEgressDestinations bounds the destination_service values of the TCP
// metrics; tunnels to further destinations are counted under overflow.
const maxEgressDestinations = 1024

// Egress holds the forward proxy's metrics: Istio's TCP metrics for its
// tunnels, and its decisions by outcome and reason.
type Egress struct {
	sent, received, opened, closed *prometheus.CounterVec
	decisions                      *prometheus.CounterVec

	mu    sync.Mutex
	dests map[string]bool
}

// NewEgress registers the forward proxy's metrics in reg.
func NewEgress(reg *prometheus.Registry) *Egress {
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	e := &Egress{
		sent:      counter("istio_tcp_sent_bytes_total", "Bytes sent to the client through tunnels.", tcpLabels),
		received:  counter("istio_tcp_received_bytes_total", "Bytes received from the client through tunnels.", tcpLabels),
		opened:    counter("istio_tcp_connections_opened_total", "Tunnels opened.", tcpLabels),
		closed:    counter("istio_tcp_connections_closed_total", "Tunnels closed.", tcpLabels),
		decisions: counter("portcullis_egress_decisions_total", "Forward-proxy tunnels and requests by listener, decision and reason.", []string{"listener", "decision", "reason"}),
		dests:     make(map[string]bool),
	}
	reg.MustRegister(e.sent, e.received, e.opened, e.closed, e.decisions)
	return e
}

// Decision counts one tunnel or request by what became of it.
func (e *Egress) Decision(listener, decision, reason string) {
	e.decisions.WithLabelValues(listener, decision, reason).Inc()
}

// Opened counts a tunnel opened to the destination l names.
func (e *Egress) Opened(l Labels) {
	e.opened.WithLabelValues(e.values(l, 0)...).Inc()
}

// Closed counts a tunnel closed, with the bytes it carried each way.
func (e *Egress) Closed(l Labels, flags accesslog.Flags, received, sent int64) {
	lv := e.values(l, flags)
	e.closed.WithLabelValues(lv...).Inc()
	e.add(lv, received, sent)
}

// Bytes counts what an open tunnel carried each way since it was last
// counted, without response flags, which only its close knows.
func (e *Egress) Bytes(l Labels, received, sent int64) {
	e.add(e.values(l, 0), received, sent)
}

func (e *Egress) add(lv []string, received, sent int64) {
	e.received.WithLabelValues(lv...).Add(float64(max(received, 0)))
	e.sent.WithLabelValues(lv...).Add(float64(max(sent, 0)))
}

// values are l's TCP label values, request_protocol tcp, with
// destination_service folded to overflow past maxEgressDestinations.
func (e *Egress) values(l Labels, flags accesslog.Flags) []string {
	e.mu.Lock()
	if !e.dests[l.DestinationService] {
		if len(e.dests) >= maxEgressDestinations {
			l.DestinationService, l.DestinationServiceName = overflowValue, ""
		} else {
			e.dests[l.DestinationService] = true
		}
	}
	e.mu.Unlock()
	l.RequestProtocol = "tcp"
	k := seriesKey{Labels: l, flags: flags}
	lv := k.values()
	// Drop response_code and grpc_response_status, as tcpLabels does.
	i := slices.Index(istioLabels, "response_code")
	return slices.Delete(lv, i, i+2)
}
