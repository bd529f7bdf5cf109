package metrics

import "github.com/prometheus/client_golang/prometheus"

// registerFolded adds portcullis_metrics_series_folded_total: the requests
// counted in Istio's metrics under the overflow label set (destination_service
// and response_code "overflow") because theirs would have been past
// maxRequestSeries. Alert on any increase: the page no longer tells those
// requests apart.
func (m *Metrics) registerFolded(reg *prometheus.Registry) {
	m.folded = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "portcullis_metrics_series_folded_total",
		Help: "Requests counted in Istio's metrics under the overflow label set (destination_service=\"overflow\") because the bound on label sets was reached.",
	})
	reg.MustRegister(m.folded)
}
