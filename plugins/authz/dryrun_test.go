package authz

import (
	"context"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// TestDryRunAudit: dry-run AUDIT policies are evaluated as the shadow
// rules of Istio's AUDIT filter: the access log's metadata names the rule
// that matched with the shadow engine's result, always allowed, nothing is
// marked for audit and nothing is decided by them; the metrics count them
// as dry-run.
func TestDryRunAudit(t *testing.T) {
	docs := dryRun(policy("watch", "action: AUDIT\nrules: [ { to: [ { operation: { paths: [/a] } } ] } ]")) +
		policy("only-b", "rules: [ { to: [ { operation: { paths: [/b] } } ] } ]")
	e := load(t, docs, Mesh{})
	g, err := e.Guard("foo", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := newMetrics(nil)
	h := newHandler(g, m)
	cases := []struct {
		target, id string
		denied     bool
	}{
		{"/a", "ns[foo]-policy[watch]-rule[0]", true},
		{"/b", "", false},
	}
	for _, c := range cases {
		req := rq{target: c.target}.request(t)
		err := h.HandleRequest(context.Background(), req)
		if (err != nil) != c.denied {
			t.Errorf("%s: got %v, want denied %v (by the ALLOW policy alone)", c.target, err, c.denied)
		}
		if v, _ := req.Metadata.Get(NoteRBAC, NoteDryRunAuditWhat); v != "allowed" {
			t.Errorf("%s: shadow_engine_result: got %q, want allowed", c.target, v)
		}
		if v, _ := req.Metadata.Get(NoteRBAC, NoteDryRunAuditID); v != c.id {
			t.Errorf("%s: shadow_effective_policy_id: got %q, want %q", c.target, v, c.id)
		}
		if v, ok := req.Metadata.Get(NoteCommon, NoteAccessLogHint); ok {
			t.Errorf("%s: access_log_hint: got %q, want none from a dry-run policy", c.target, v)
		}
	}
	var out dto.Metric
	_ = m.decisions.WithLabelValues("foo", "watch", "AUDIT", "true", "audited").Write(&out)
	if got := out.GetCounter().GetValue(); got != 1 {
		t.Errorf("dry-run audited: got %v, want 1", got)
	}
	if g.Decide(rq{target: "/a"}.request(t)).DryRunAudit.ID != "ns[foo]-policy[watch]-rule[0]" {
		t.Errorf("Decide: got no dry-run AUDIT match on /a")
	}
	// Without dry-run AUDIT policies, nothing of theirs is written.
	plain := newHandler(load(t, policy("only-b", "rules: [ {} ]"), Mesh{}).ForWorkload("foo", nil), m)
	req := rq{}.request(t)
	_ = plain.HandleRequest(context.Background(), req)
	if _, ok := req.Metadata.Get(NoteRBAC, NoteDryRunAuditWhat); ok {
		t.Errorf("shadow_engine_result written with no dry-run AUDIT policy")
	}
}
