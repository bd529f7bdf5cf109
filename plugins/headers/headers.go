package headers

import (
	"context"

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
	h.request.apply(req.Header())
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
func (h *WithResponse) HandleResponse(_ context.Context, _ *plugins.Request, resp *plugins.Response) error {
	h.response.apply(resp.Header())
	return nil
}

// edits are one side's ops, compiled: canonical names and prebuilt values.
type edits struct {
	remove   []string
	set, add []field
}

// field is one header with the values to write.
type field struct {
	name   string
	values []string // len == cap; shared by every request
}

// apply edits h in the documented order. Remove and set drop every spelling
// of the name (plugins.Header's Del), so that a client who sends x_api_key
// cannot keep a header the route removes, nor put a second value beside one
// it sets. The values written are the shared slices, which the header keeps
// without copying, so an edit allocates nothing.
func (e *edits) apply(h plugins.Header) {
	for _, n := range e.remove {
		h.Del(n)
	}
	for _, f := range e.set {
		h.SetValues(f.name, f.values)
	}
	for _, f := range e.add {
		h.AddValues(f.name, f.values)
	}
}
