package authz

import "github.com/prometheus/client_golang/prometheus"

// metrics are the plugin's Prometheus metrics, one set per Plugin so that
// reloads share them:
//
//   - portcullis_authz_decisions_total{namespace,policy,action,dry_run,result}:
//     requests decided, by the policy whose rule decided (policy "none"
//     when no ALLOW policy matched, or none applied), its action, whether
//     it is a dry-run policy (evaluated, never enforced), and the result:
//     allowed, denied, or audited for AUDIT policies.
//   - portcullis_authz_ext_authz_total{provider,result}: checks sent to
//     an external authorizer for CUSTOM policies, by provider and, as
//     Envoy's ext_authz stats name them, result: ok, denied, error (no
//     answer, a timeout or a 5xx, the request refused) or
//     failure_mode_allowed (the same, let through by fail_open).
type metrics struct {
	decisions *prometheus.CounterVec
	extAuthz  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_authz_decisions_total",
			Help: "Requests decided by AuthorizationPolicy, by the policy that decided (none when no rule did), its action, whether it is dry-run, and the result (allowed, denied, audited).",
		}, []string{"namespace", "policy", "action", "dry_run", "result"}),
		extAuthz: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_authz_ext_authz_total",
			Help: "Checks sent to an external authorizer for CUSTOM policies, by provider and result (ok, denied, error, failure_mode_allowed).",
		}, []string{"provider", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.decisions, m.extAuthz)
	}
	return m
}

func (m *metrics) forProvider(name string) extCounters {
	l := func(result string) prometheus.Counter { return m.extAuthz.WithLabelValues(name, result) }
	return extCounters{ok: l("ok"), denied: l("denied"), error: l("error"), failureModeAllowed: l("failure_mode_allowed")}
}

// counters are one policy's counters, looked up once when a route's
// handler is built, so that a decision counts without a label lookup.
type counters struct {
	allowed, denied, audited prometheus.Counter
}

func (m *metrics) forPolicy(p *Policy) *counters {
	dry := "false"
	if p.DryRun {
		dry = "true"
	}
	l := func(result string) prometheus.Counter {
		return m.decisions.WithLabelValues(p.Namespace, p.Name, p.Action.String(), dry, result)
	}
	return &counters{allowed: l("allowed"), denied: l("denied"), audited: l("audited")}
}
