package waf

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"

	"github.com/portcullis-gw/portcullis/plugins"
)

// The outcomes the metrics count.
const (
	passed   = "passed"
	blocked  = "blocked"
	detected = "detected"
	limited  = "limited"
)

// HandleRequest inspects the request's line, query, header and body, and
// refuses it when the profile's rules block it or it is past the profile's
// limits.
func (h *Handler) HandleRequest(ctx context.Context, req *plugins.Request) error {
	start := h.now()
	var tx types.Transaction
	if req.ID != "" {
		tx = h.engine.waf.NewTransactionWithID(req.ID) // the audit log's id is the access log's
	} else {
		tx = h.engine.waf.NewTransaction()
	}
	keep := h.p.Response.Inspect
	rej, err := h.request(tx, req, keep)
	outcome := passed
	var rules []int
	switch {
	case rej != nil && rej.Status == http.StatusRequestEntityTooLarge && strings.HasPrefix(rej.Details, "waf_limit"):
		outcome = limited
	case rej != nil:
		outcome, rules = blocked, matchedIDs(tx)
	case err == nil && detectedOnly(tx):
		outcome, rules = detected, matchedIDs(tx)
	}
	if outcome != passed {
		h.record(req, outcome, rules, anomalyScore(tx, "blocking_inbound_anomaly_score"))
	}
	if rej == nil && err == nil && keep {
		h.stash(ctx, req, tx)
	} else {
		finish(tx)
	}
	h.metrics.observe(h.profile, outcome, rules, h.now().Sub(start))
	if rej != nil {
		return rej
	}
	return err
}

// request runs the request phases on tx. keep says that tx outlives the
// call (the response is to be inspected), so that what it holds of the
// request must be copies.
func (h *Handler) request(tx types.Transaction, req *plugins.Request, keep bool) (*plugins.Reject, error) {
	clone := func(s string) string { return s }
	if keep {
		clone = strings.Clone
	}
	u := usage{l: &h.p.Limits}
	hdr := req.Header()
	within := u.add(len(req.Path()), 0) && u.header("Host", req.Authority())
	hdr.Each(func(k, v string) bool { within = u.header(k, v); return within })
	if !within || !u.query(req.Query()) {
		return h.limited(tx, req, u.over), nil
	}
	port := 0
	if req.Peer.Addr() == req.Client {
		port = int(req.Peer.Port())
	}
	tx.ProcessConnection(req.Client.String(), port, "", 0)
	uri := req.Path()
	if q := req.Query(); q != "" {
		uri += "?" + q
	}
	tx.ProcessURI(clone(uri), req.Method(), req.Protocol())
	hdr.Each(func(k, v string) bool { tx.AddRequestHeader(clone(k), clone(v)); return true })
	authority := clone(req.Authority())
	tx.AddRequestHeader("Host", authority)
	if host, _, err := net.SplitHostPort(authority); err == nil {
		tx.SetServerName(host)
	} else {
		tx.SetServerName(authority)
	}
	if req.Protocol() == "HTTP/1.1" && req.ContentLength() < 0 {
		// net/http takes Transfer-Encoding out of the header; the CRS
		// asks that a body come with it or a Content-Length.
		tx.AddRequestHeader("Transfer-Encoding", "chunked")
	}
	if it := tx.ProcessRequestHeaders(); it != nil {
		return h.blocked(tx, req, it), nil
	}
	if tx.IsRequestBodyAccessible() && req.ContentLength() != 0 {
		if rej, err := h.body(tx, req, &u); rej != nil || err != nil {
			return rej, err
		}
	}
	it, err := tx.ProcessRequestBody()
	switch {
	case err != nil:
		return nil, err
	case it != nil:
		return h.blocked(tx, req, it), nil
	case state(tx).Variables().ArgumentsLimitReached().Get() == "1":
		// Coraza counts arguments its own way and drops those past its
		// limit: refuse rather than let them through unread.
		return h.limited(tx, req, overArgs), nil
	}
	return nil, nil
}

// body reads the request body up to the profile's limit, counts it against
// the limits, gives it to Coraza and hands the upstream what was read,
// followed by the rest when the profile inspects a longer body in part.
func (h *Handler) body(tx types.Transaction, req *plugins.Request, u *usage) (*plugins.Reject, error) {
	limit := int64(h.p.RequestBodyLimit)
	partialOK := h.p.RequestBodyLimitAction == "inspect_partial"
	length := req.ContentLength()
	if length > limit && !partialOK {
		return h.limited(tx, req, overBody), nil
	}
	var buf bytes.Buffer
	if length > 0 {
		buf.Grow(int(min(length, limit+1)))
	}
	body := req.Body()
	if _, err := buf.ReadFrom(io.LimitReader(body, limit+1)); err != nil {
		if rej := (*plugins.Reject)(nil); errors.As(err, &rej) {
			return rej, nil
		}
		return &plugins.Reject{Status: http.StatusBadRequest, Flag: "DPE", Details: "request_body_invalid"}, nil
	}
	read := buf.Bytes()
	inspected := read
	if int64(len(read)) > limit {
		if !partialOK {
			return h.limited(tx, req, overBody), nil
		}
		inspected = read[:limit]
		req.SetBody(readCloser{io.MultiReader(bytes.NewReader(read), body), body}, length)
	} else {
		req.SetBody(io.NopCloser(bytes.NewReader(read)), int64(len(read)))
	}
	processor := state(tx).Variables().RequestBodyProcessor().Get()
	if !u.body(processor, req.Header().Get("Content-Type"), inspected) {
		return h.limited(tx, req, u.over), nil
	}
	if it, _, err := tx.WriteRequestBody(inspected); err != nil || it != nil {
		if it != nil {
			return h.blocked(tx, req, it), nil
		}
		return nil, err
	}
	return nil, nil
}

// readCloser reads the start of a body the WAF read and then the rest of
// the client's, and closes the client's.
type readCloser struct {
	io.Reader
	io.Closer
}

// limited refuses a request past one of the profile's limits with 413,
// and marks tx interrupted so that the audit log records it.
func (h *Handler) limited(tx types.Transaction, req *plugins.Request, limit string) *plugins.Reject {
	state(tx).Interrupt(&types.Interruption{Status: http.StatusRequestEntityTooLarge, Action: "deny"})
	return answer(http.StatusRequestEntityTooLarge, req, "waf_limit{"+limit+"}")
}

// blocked refuses a request that a rule interrupted, with the status the
// rule gives (403 when it gives none), and names the rules that matched and
// the anomaly score in the details.
func (h *Handler) blocked(tx types.Transaction, req *plugins.Request, it *types.Interruption) *plugins.Reject {
	status := it.Status
	if status == 0 {
		status = http.StatusForbidden
	}
	rej := answer(status, req, blockDetails(matchedIDs(tx), anomalyScore(tx, "blocking_inbound_anomaly_score")))
	if it.Action == "redirect" && it.Data != "" {
		if status < 300 || status > 399 {
			rej.Status = http.StatusFound
		}
		rej.Header.Set("Location", it.Data)
	}
	return rej
}

// Namespace is the WAF's namespace in the access log's dynamic metadata:
// %DYNAMIC_METADATA(portcullis.waf:rule_ids)% in a text format, and
// dynamic_metadata["portcullis.waf"] in the JSON log.
const Namespace = "portcullis.waf"

// record writes what the WAF decided of a request it did not simply pass
// into the request's access-log metadata: the profile, the outcome, the ids
// of the rules that matched and the anomaly score. Detect mode's matches
// reach the access log this way, as a block's do.
func (h *Handler) record(req *plugins.Request, outcome string, rules []int, score int) {
	md := &req.Metadata
	md.Set(Namespace, "profile", h.profile)
	md.Set(Namespace, "outcome", outcome)
	if outcome == limited {
		return
	}
	ids := make([]string, len(rules))
	for i, id := range rules {
		ids[i] = strconv.Itoa(id)
	}
	md.Set(Namespace, "rule_ids", strings.Join(ids, ","))
	md.Set(Namespace, "anomaly_score", strconv.Itoa(score))
}

// finish writes tx's audit log entry, if it is one to log, and frees it.
func finish(tx types.Transaction) {
	tx.ProcessLogging()
	_ = tx.Close() // it only removes temporary files of uploads
}

// state is the transaction's variables and actions, which Coraza's
// transactions all expose.
func state(tx types.Transaction) plugintypes.TransactionState {
	return tx.(plugintypes.TransactionState)
}

// detectedOnly reports whether detect mode let through a request the rules
// would have blocked.
func detectedOnly(tx types.Transaction) bool {
	d, ok := tx.(interface{ IsDetectionOnlyInterrupted() bool })
	return ok && d.IsDetectionOnlyInterrupted()
}
