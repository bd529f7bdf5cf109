package waf

import (
	"encoding/json"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/corazawaf/coraza/v3/types"

	"github.com/portcullis-gw/portcullis/plugins"
)

// maxDetailIDs bounds the rule ids that a block's details name.
const maxDetailIDs = 16

// answer is the gateway's reply to a request the WAF refuses: the status,
// and a small body in JSON or, for a client that asks for HTML first, in
// HTML, that says what happened and gives the request id to quote to the
// site's operators, never which rules matched. The access log gets details
// and no response flag, as Envoy logs a reply that a filter such as RBAC
// makes: there is no Envoy flag for a WAF.
func answer(status int, req *plugins.Request, details string) *plugins.Reject {
	what := "The request was blocked."
	if status == http.StatusRequestEntityTooLarge {
		what = "The request is larger than this site inspects."
	}
	title := strconv.Itoa(status) + " " + http.StatusText(status)
	var body, ctype string
	if prefersHTML(req.Header().Get("Accept")) {
		ctype = "text/html; charset=utf-8"
		body = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title + "</title></head><body>\n<h1>" + title +
			"</h1>\n<p>" + what + "</p>\n<p>Request id: <code>" + html.EscapeString(req.ID) + "</code></p>\n</body></html>\n"
	} else {
		ctype = "application/json"
		b, _ := json.Marshal(struct {
			Status    int    `json:"status"`
			Error     string `json:"error"`
			RequestID string `json:"request_id"`
		}{status, what, req.ID})
		body = string(b) + "\n"
	}
	return &plugins.Reject{
		Status:  status,
		Body:    body,
		Details: details,
		Header:  http.Header{"Content-Type": {ctype}, "Cache-Control": {"no-store"}},
	}
}

// prefersHTML reports whether an Accept header asks for HTML before JSON,
// as a browser's does; any other client gets JSON.
func prefersHTML(accept string) bool {
	h := strings.Index(accept, "text/html")
	j := strings.Index(accept, "json")
	return h >= 0 && (j < 0 || h < j)
}

// blockDetails are a block's response code details for the access log:
// waf_blocked{<rule ids>;score=<inbound anomaly score>}, the ids in the
// order they matched, at most maxDetailIDs of them and "+N" for the rest.
// They hold no spaces, as Envoy's details never do.
func blockDetails(ids []int, score int) string {
	var b strings.Builder
	b.WriteString("waf_blocked{")
	for i, id := range ids {
		if i == maxDetailIDs {
			b.WriteString(",+" + strconv.Itoa(len(ids)-i))
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(id))
	}
	b.WriteString(";score=" + strconv.Itoa(score) + "}")
	return b.String()
}

// matchedIDs returns the ids of the rules that matched and log their
// matches (not the CRS's bookkeeping), each once, in the order they
// matched.
func matchedIDs(tx types.Transaction) []int {
	var ids []int
	for _, m := range tx.MatchedRules() {
		id := m.Rule().ID()
		if l, ok := m.(interface{ Log() bool }); id == 0 || ok && !l.Log() {
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// anomalyScore reads one of the CRS's anomaly scores from tx, 0 when unset.
func anomalyScore(tx types.Transaction, name string) int {
	vs := state(tx).Variables().TX().Get(name)
	if len(vs) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(vs[0])
	return n
}
