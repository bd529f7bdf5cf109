package routes

import (
	"strings"

	"golang.org/x/net/http/httpguts"
)

// defaultServerHeader is the Server header when the file says nothing: the
// gateway's name, written over the upstream's as Envoy writes "envoy"
// (Istio sets "istio-envoy").
var defaultServerHeader = ServerHeader{Value: "portcullis", Transformation: "overwrite"}

// maxServerValue bounds the Server header's value, which goes on every
// response.
const maxServerValue = 256

// checkServerHeader checks a server_header and fills what it leaves out
// from def: the file's defaults for the file's, the file's for a
// listener's. What it takes from def was checked there.
func (c *checker) checkServerHeader(s scope, field string, h *ServerHeader, def ServerHeader) {
	if h.Transformation == "" {
		h.Transformation = def.Transformation
	} else {
		s.oneOf(field+".transformation", &h.Transformation, "overwrite", "append_if_absent", "pass_through")
	}
	switch v := h.Value; {
	case v == "":
		h.Value = def.Value
	case len(v) > maxServerValue:
		s.errorf(&h.Value, "%s.value: longer than %d bytes", field, maxServerValue)
	case !httpguts.ValidHeaderFieldValue(v) || strings.TrimSpace(v) != v:
		s.errorf(&h.Value, "%s.value: %q is not a valid header value (control characters or surrounding spaces)", field, v)
	}
}
