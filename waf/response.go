package waf

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/corazawaf/coraza/v3/types"

	"github.com/portcullis-gw/portcullis/plugins"
)

// pendingTx is a request's transaction kept for its response phase. Either
// the response phase or the end of the request claims it, whichever comes
// first, and frees it.
type pendingTx struct {
	tx      types.Transaction
	claimed atomic.Bool
	stop    func() bool
}

func (p *pendingTx) claim() bool { return p.claimed.CompareAndSwap(false, true) }

// stash keeps tx for the response phase of req. The contract keeps no
// per-request state for a plugin, so the handler holds it under the
// request's pointer, used as a key and never read, until the response
// phase takes it or the request ends: ctx ends with the request whether
// or not a response phase comes (an upstream that fails, a client that
// leaves), and the view may then serve another request under the same
// pointer, so the entry is removed only if it is still this one.
func (h *Handler) stash(ctx context.Context, req *plugins.Request, tx types.Transaction) {
	p := &pendingTx{tx: tx}
	h.pending.Store(req, p)
	p.stop = context.AfterFunc(ctx, func() {
		h.pending.CompareAndDelete(req, p)
		if p.claim() {
			finish(p.tx)
		}
	})
}

// HandleResponse inspects the response's status and header, and its body
// when its media type is one the profile names, and refuses it when the
// rules block it. Other bodies stream through unread.
func (h *WithResponse) HandleResponse(_ context.Context, req *plugins.Request, resp *plugins.Response) error {
	v, ok := h.pending.LoadAndDelete(req)
	if !ok {
		return nil
	}
	p := v.(*pendingTx)
	if !p.claim() {
		return nil // the request ended first
	}
	p.stop()
	defer finish(p.tx)
	start := h.now()
	rej := h.response(p.tx, req, resp)
	outcome := ""
	switch {
	case rej != nil:
		outcome = "response_" + blocked
	case detectedOnly(p.tx):
		outcome = "response_" + detected
	default:
		return nil
	}
	rules := matchedIDs(p.tx)
	h.record(req, outcome, rules, anomalyScore(p.tx, "blocking_outbound_anomaly_score"))
	h.metrics.observe(h.profile, outcome, rules, h.now().Sub(start))
	if rej == nil {
		return nil // not a nil *Reject in a non-nil error
	}
	return rej
}

func (h *WithResponse) response(tx types.Transaction, req *plugins.Request, resp *plugins.Response) *plugins.Reject {
	resp.Header().Each(func(k, v string) bool { tx.AddResponseHeader(k, v); return true })
	if it := tx.ProcessResponseHeaders(resp.Status(), req.Protocol()); it != nil {
		return h.responseBlocked(tx, req, it)
	}
	if tx.IsResponseBodyProcessable() && resp.Status() != http.StatusSwitchingProtocols {
		r := &h.p.Response
		limit := int64(r.BodyLimit)
		body := resp.Body()
		read, err := io.ReadAll(io.LimitReader(body, limit+1))
		if err != nil {
			return &plugins.Reject{Status: http.StatusBadGateway, Flag: "UPE", Details: "upstream_response_body_failed"}
		}
		inspected := read
		if int64(len(read)) > limit {
			if r.BodyLimitAction == "reject" {
				return answer(http.StatusBadGateway, req, "waf_limit{response_body}")
			}
			inspected = read[:limit]
			resp.SetBody(readCloser{io.MultiReader(bytes.NewReader(read), body), body}, resp.ContentLength())
		} else {
			resp.SetBody(io.NopCloser(bytes.NewReader(read)), int64(len(read)))
		}
		if it, _, err := tx.WriteResponseBody(inspected); it != nil || err != nil {
			return h.responseBlocked(tx, req, it)
		}
	}
	if it, err := tx.ProcessResponseBody(); it != nil || err != nil {
		return h.responseBlocked(tx, req, it)
	}
	return nil
}

// responseBlocked refuses a response the rules interrupted, or one Coraza
// failed on, in place of the upstream's.
func (h *WithResponse) responseBlocked(tx types.Transaction, req *plugins.Request, it *types.Interruption) *plugins.Reject {
	status := http.StatusForbidden
	if it != nil && it.Status != 0 {
		status = it.Status
	}
	return answer(status, req, blockDetails(matchedIDs(tx), anomalyScore(tx, "blocking_outbound_anomaly_score")))
}
