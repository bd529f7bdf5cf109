package metrics

import "github.com/prometheus/client_golang/prometheus"

// The gateway's own metrics, beyond Istio's:
//
//   - portcullis_requests_in_flight: requests received and not yet answered;
//     the drain on shutdown watches it fall to zero.
//   - portcullis_downstream_connections{listener}: open client connections
//     per listener (TCP and QUIC), to see connection reuse and a
//     listener's share of load.
//   - portcullis_downstream_too_many_premature_resets_total{listener}:
//     HTTP/2 and HTTP/3 connections closed for rapid reset; any increase
//     is a client attacking, or badly broken.
//   - portcullis_downstream_peer_refused_total{listener,reason}: TLS
//     handshakes refused for the caller's certificate on listeners with
//     client_auth; reason says what was wrong (unknown_ca, expired …).
//     Each reason's series is there at zero for every listener that
//     verifies callers (CallerListeners).
//   - portcullis_config_reloads_total{result="success|failure"}: reload
//     attempts; alert on an increase of failures, since a failed reload
//     leaves the old config serving and is otherwise silent.
//   - portcullis_config_last_reload_success_timestamp_seconds: when the
//     running config was loaded, to tell which replicas run an old one.
//   - portcullis_build_info{version,go_version}: always 1.
func (m *Metrics) registerOwn(reg *prometheus.Registry, version string) {
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "portcullis_requests_in_flight",
		Help: "Requests received and not yet answered.",
	})
	m.connections = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "portcullis_downstream_connections",
		Help: "Open downstream connections (TCP and QUIC) per listener.",
	}, []string{"listener"})
	m.connRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_downstream_connections_rejected_total",
		Help: "Connections (TCP and QUIC) refused as they arrived for being over a connection limit, per listener and reason (listener_limit, client_limit, handshake_limit).",
	}, []string{"listener", "reason"})
	m.prematureResets = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_downstream_too_many_premature_resets_total",
		Help: "HTTP/2 and HTTP/3 connections closed (GOAWAY ENHANCE_YOUR_CALM, H3_EXCESSIVE_LOAD) for resetting too many streams before their response (rapid reset), per listener.",
	}, []string{"listener"})
	m.protocolErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_downstream_protocol_errors_total",
		Help: "Requests refused for their HTTP/1 framing (bare LF, obs-fold, Content-Length with Transfer-Encoding …) before routing, per listener and kind.",
	}, []string{"listener", "kind"})
	m.peerRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_downstream_peer_refused_total",
		Help: "TLS handshakes refused for the caller's certificate (client_auth optional or require), per listener and reason: no_certificate, unknown_ca, expired, not_yet_valid, no_client_auth_usage, ca_as_leaf, missing_spiffe_id, malformed_spiffe_id, malformed_certificate, foreign_trust_domain, multiple_uri_sans, chain_too_long, bad_chain.",
	}, []string{"listener", "reason"})
	reloads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_config_reloads_total",
		Help: "Config reload attempts by result (success or failure).",
	}, []string{"result"})
	// Both results exist from the start, so that increase() over the
	// failure series works before the first failure.
	m.reloadOK = reloads.WithLabelValues("success")
	m.reloadFail = reloads.WithLabelValues("failure")
	m.lastReload = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "portcullis_config_last_reload_success_timestamp_seconds",
		Help: "Unix time of the last successful config load.",
	})
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "portcullis_build_info",
		Help:        "Always 1; the labels name the gateway's version and Go toolchain.",
		ConstLabels: prometheus.Labels{"version": version, "go_version": goVersion()},
	})
	build.Set(1)
	reg.MustRegister(m.inFlight, m.connections, m.connRejected, m.prematureResets, m.protocolErrors, m.peerRefused, reloads, m.lastReload, build)
}

// InFlight adds delta (+1 when a request arrives, -1 when it is answered)
// to the in-flight gauge.
func (m *Metrics) InFlight(delta int) { m.inFlight.Add(float64(delta)) }

// Connections adds delta (+1 on accept, -1 on close) to the listener's
// open-connection gauge.
func (m *Metrics) Connections(listener string, delta int) {
	m.connections.WithLabelValues(value(listener)).Add(float64(delta))
}

// Loaded records the first load of the configuration, at start: the
// last-success timestamp is its time, so that a replica that never
// reloaded shows when its configuration was loaded rather than 0. It is
// not counted as a reload.
func (m *Metrics) Loaded() { m.lastReload.SetToCurrentTime() }

// Reload counts a reload attempt; a success also sets the last-success
// timestamp.
func (m *Metrics) Reload(ok bool) {
	if !ok {
		m.reloadFail.Inc()
		return
	}
	m.reloadOK.Inc()
	m.lastReload.SetToCurrentTime()
}

// ConnectionRejected counts a connection closed at accept for being over a
// listener's connection limits; reason is listener_limit, client_limit or,
// for QUIC, handshake_limit.
func (m *Metrics) ConnectionRejected(listener, reason string) {
	m.connRejected.WithLabelValues(listener, reason).Inc()
}

// ProtocolError counts a request refused for its HTTP/1 framing before it
// reached a handler; kind names the fault (bare_lf, obs_fold …).
func (m *Metrics) ProtocolError(listener, kind string) {
	m.protocolErrors.WithLabelValues(listener, kind).Inc()
}

// TooManyPrematureResets counts an HTTP/2 or HTTP/3 connection closed for resetting
// too many streams before their response.
func (m *Metrics) TooManyPrematureResets(listener string) {
	m.prematureResets.WithLabelValues(listener).Inc()
}

// CallerRefused counts a TLS handshake refused for the caller's
// certificate; reason names what was wrong with it.
func (m *Metrics) CallerRefused(listener, reason string) {
	m.peerRefused.WithLabelValues(value(listener), reason).Inc()
}

// CallerListeners makes the refusal series of every one of reasons exist,
// at zero, for each of listeners, the listeners that verify callers, and
// drops the series of any other listener: dashboards and alerts see a
// listener's refusals from its start, not from its first refusal, and a
// listener removed or no longer verifying leaves nothing behind.
func (m *Metrics) CallerListeners(listeners, reasons []string) {
	m.peerMu.Lock()
	defer m.peerMu.Unlock()
	keep := make(map[string]bool, len(listeners))
	for _, l := range listeners {
		l = value(l)
		keep[l] = true
		for _, r := range reasons {
			m.peerRefused.WithLabelValues(l, r)
		}
	}
	for l := range m.peerListeners {
		if !keep[l] {
			m.peerRefused.DeletePartialMatch(prometheus.Labels{"listener": l})
		}
	}
	m.peerListeners = keep
}
