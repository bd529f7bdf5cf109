package gateway

import (
	"net/http"

	"github.com/portcullis-gw/portcullis/routes"
)

// serverHeader is what a listener does with the Server header of its
// responses, Envoy's server_name and server_header_transformation.
type serverHeader struct {
	mode serverMode
	// value is shared by every response; its capacity is its length, so
	// an append copies it.
	value []string
}

type serverMode uint8

const (
	// serverPassThrough leaves the header alone. It is the zero value, so
	// that a handler served without a listener adds nothing.
	serverPassThrough serverMode = iota
	serverOverwrite
	serverAppendIfAbsent
)

func newServerHeader(h routes.ServerHeader) serverHeader {
	s := serverHeader{value: []string{h.Value}[:1:1]}
	switch h.Transformation {
	case "overwrite":
		s.mode = serverOverwrite
	case "append_if_absent":
		s.mode = serverAppendIfAbsent
	}
	return s
}

// apply sets the Server header of a response whose header is about to be
// written: after the plugins' response phase, as Envoy's connection manager
// sets it after its filters.
func (s *serverHeader) apply(h http.Header) {
	switch s.mode {
	case serverOverwrite:
		h["Server"] = s.value
	case serverAppendIfAbsent:
		if len(h["Server"]) == 0 {
			h["Server"] = s.value
		}
	}
}
