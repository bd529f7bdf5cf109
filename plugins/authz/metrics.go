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
type metrics struct {
	decisions *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_authz_decisions_total",
		Help: "Requests decided by AuthorizationPolicy, by the policy that decided (none when no rule did), its action, whether it is dry-run, and the result (allowed, denied, audited).",
	}, []string{"namespace", "policy", "action", "dry_run", "result"})}
	if reg != nil {
		reg.MustRegister(m.decisions)
	}
	return m
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
