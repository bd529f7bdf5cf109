package gateway

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
)

// local writes a response of the gateway's own: the one place such answers
// are rendered. The body goes out as it is, as Envoy's local replies do (no
// newline is added, so Content-Length is Envoy's too); an empty body means
// the status text, and emptyReply none at all. A HEAD request gets the header
// alone, so that the bytes logged are the bytes sent.
func (g *Gateway) local(w *responseWriter, ex *exchange, status int, body string, flag accesslog.Flags, details string) {
	ex.rec.Flags |= flag
	ex.rec.ResponseCodeDetails = details
	if w.status != 0 {
		return // a response is already under way; it cannot be replaced
	}
	switch body {
	case "":
		body = http.StatusText(status)
	case emptyReply:
		body = ""
	}
	h := w.Header()
	if body != "" {
		// A plugin's reply may give its body's type (the WAF answers in
		// JSON or HTML); every other is text.
		if _, typed := h["Content-Type"]; !typed {
			h["Content-Type"] = []string{"text/plain; charset=utf-8"}
		}
		h["X-Content-Type-Options"] = []string{"nosniff"}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	if (status == http.StatusBadRequest || status == http.StatusRequestHeaderFieldsTooLarge || unreadBody(ex)) && ex.in.ProtoMajor == 1 {
		// The client's framing or headers are not to be trusted, or its
		// body was never read: closing spares the server from reading
		// what is left of it, however slowly it comes, before the next
		// request. HTTP/2 and HTTP/3 have no Connection header (an
		// HTTP/3 client refuses a response with one), and their streams
		// end on their own.
		h["Connection"] = []string{"close"}
	}
	w.WriteHeader(status)
	if body != "" && ex.in.Method != http.MethodHead {
		w.Write([]byte(body))
	}
}

// emptyReply asks local for a reply without a body, as Envoy's router sends for
// a request no route matches.
const emptyReply = "\x00"

// unreadBody reports whether an HTTP/1 request came with a body that was
// neither handed to the upstream nor read to its end by a plugin.
func unreadBody(ex *exchange) bool {
	return ex.in != nil && ex.in.ProtoMajor == 1 && ex.body != nil && !ex.bodySent && !ex.body.eof.Load()
}

// fail answers a plugin's error: a *plugins.Reject as the plugin asked, any
// other error as 500.
func (g *Gateway) fail(w *responseWriter, ex *exchange, err error) {
	var rej *plugins.Reject
	if !errors.As(err, &rej) {
		g.log.Error().Err(err).Str("request_id", ex.req.ID).Str("route", ex.rec.RouteName).Msg("plugin failed")
		g.local(w, ex, http.StatusInternalServerError, "", 0, "plugin_error")
		return
	}
	flag, _ := accesslog.ParseFlag(rej.Flag)
	for k, vs := range rej.Header {
		w.Header()[k] = vs
	}
	details := rej.Details
	if details == "" {
		details = "plugin_rejected"
	}
	g.local(w, ex, rej.Status, rej.Body, flag, details)
}

// direct writes a route's direct response.
func (g *Gateway) direct(w *responseWriter, r *http.Request, ex *exchange, d *routes.DirectResponse) {
	h := make(http.Header, len(d.Header)+2)
	for k, v := range d.Header {
		h.Set(k, v)
	}
	if h.Get("Content-Type") == "" && d.Body != "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	g.respond(w, r, ex, d.Status, h, d.Body)
}

// redirect answers with a route's redirect.
func (g *Gateway) redirect(w *responseWriter, r *http.Request, ex *exchange, location string, code int) {
	h := http.Header{"Location": {location}}
	g.respond(w, r, ex, code, h, "")
}

// respond writes a response the gateway makes from the route itself, after
// the plugins' response phase, as a proxied response would be.
func (g *Gateway) respond(w *responseWriter, r *http.Request, ex *exchange, status int, h http.Header, body string) {
	ex.rec.ResponseCodeDetails = "direct_response"
	resp := &http.Response{
		StatusCode: status, Header: h, Request: r,
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
	}
	if ex.rule.Chain.HasResponders() {
		if err := ex.rule.Chain.HandleResponse(r.Context(), &ex.req, ex.responseView(resp)); err != nil {
			g.fail(w, ex, err)
			return
		}
	}
	defer resp.Body.Close()
	wh := w.Header()
	for k, v := range resp.Header {
		wh[k] = v
	}
	if unreadBody(ex) {
		wh["Connection"] = []string{"close"}
	}
	if resp.ContentLength >= 0 {
		wh["Content-Length"] = []string{strconv.FormatInt(resp.ContentLength, 10)}
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}
