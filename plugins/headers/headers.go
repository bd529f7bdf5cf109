package headers

import (
	"context"
	"net/http"

	"github.com/portcullis-gw/portcullis/plugins"
)

var (
	_ plugins.Handler         = (*Headers)(nil)
	_ plugins.Handler         = (*WithResponse)(nil)
	_ plugins.ResponseHandler = (*WithResponse)(nil)
)

// Headers edits request headers. It is built by the Factory when the
// configuration has no response edits, and it has no HandleResponse so that
// the chain does not call it on the response path.
//
// The values it writes are slices shared by every request, built once at load
// time so that editing a header allocates nothing. Each has no spare
// capacity, so Header.Add and append copy it; code after this plugin must
// replace a header's values (Header.Set) rather than write into the slice in
// place.
type Headers struct {
	request edits
}

// HandleRequest removes, then sets, then adds request headers. It never
// rejects a request.
func (h *Headers) HandleRequest(_ context.Context, req *plugins.Request) error {
	h.request.apply(req.HTTP.Header)
	return nil
}

// WithResponse is a Headers that also edits the upstream's response headers.
// The Factory builds it only when the configuration has response edits.
type WithResponse struct {
	Headers
	response edits
}

// HandleResponse removes, then sets, then adds response headers. It never
// rejects a response.
func (h *WithResponse) HandleResponse(_ context.Context, _ *plugins.Request, resp *http.Response) error {
	if resp.Header == nil {
		// A response made by the gateway itself may come without a map.
		resp.Header = make(http.Header)
	}
	h.response.apply(resp.Header)
	return nil
}

// edits are one side's ops, compiled: canonical names and prebuilt values.
// spellings holds every name removed or set, so that other spellings of
// those names go too (see dropSpellings).
type edits struct {
	remove    []string
	set, add  []field
	spellings []string
}

// field is one header with the values to write.
type field struct {
	name   string
	values []string // len == cap; shared by every request
}

// apply edits h in the documented order. Set stores the shared slice itself;
// Add does too when the header is absent, the common case, and otherwise
// appends. That append is safe: slices shared between requests (this
// plugin's, and the parser's per-request arrays) have no spare capacity, so
// any spare capacity belongs to this request alone.
func (e *edits) apply(h http.Header) {
	for _, n := range e.remove {
		delete(h, n)
	}
	if e.spellings != nil {
		dropSpellings(h, e.spellings)
	}
	for _, f := range e.set {
		h[f.name] = f.values
	}
	for _, f := range e.add {
		if old := h[f.name]; len(old) > 0 {
			h[f.name] = append(old, f.values[0])
		} else {
			h[f.name] = f.values
		}
	}
}
