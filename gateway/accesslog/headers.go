package accesslog

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// headerRef is one header name of %REQ(X?Y)%, resolved at compile time: the
// key to read from the header map, and the record field that stands in for
// it when the map lacks the key. Pseudo-headers (:method, :path …) exist only
// as fields, because Go's server keeps them out of the header map.
type headerRef struct {
	key   string                      // canonical map key, "" for none
	field func(*Record) string        // fallback text, may be nil
	num   func(*Record) (int64, bool) // fallback number, may be nil
}

// lookup returns the value of the header, or the fallback field's.
func (h *headerRef) lookup(hdr http.Header, r *Record) (string, int64, bool) {
	if h.key != "" {
		if v := hdr[h.key]; len(v) > 0 && v[0] != "" {
			return v[0], 0, true // Envoy prints the first value
		}
	}
	if h.field != nil {
		if s := h.field(r); s != "" {
			return s, 0, true
		}
	}
	if h.num != nil {
		if n, ok := h.num(r); ok {
			return "", n, true
		}
	}
	return "", 0, false
}

// requestRefs maps request pseudo-headers and the headers the gateway also
// records to record fields. HOST stands for :authority as in Envoy; Go keeps
// Host out of the map.
var requestRefs = map[string]headerRef{
	":method":               {field: func(r *Record) string { return r.Method }},
	":path":                 {field: func(r *Record) string { return r.Path }},
	":authority":            {field: func(r *Record) string { return r.Authority }},
	"host":                  {key: "Host", field: func(r *Record) string { return r.Authority }},
	":scheme":               {field: func(r *Record) string { return r.Scheme }},
	"x-envoy-original-path": {key: "X-Envoy-Original-Path", field: func(r *Record) string { return r.OriginalPath }},
	"x-request-id":          {key: "X-Request-Id", field: func(r *Record) string { return r.RequestID }},
}

// responseRefs does the same for response headers: the router's upstream
// time header falls back to the measured time, so it prints even when the
// gateway does not send that header.
var responseRefs = map[string]headerRef{
	":status": {num: func(r *Record) (int64, bool) { return int64(r.ResponseCode), r.ResponseCode != 0 }},
	"x-envoy-upstream-service-time": {
		key: "X-Envoy-Upstream-Service-Time", num: upstreamTime,
	},
}

func buildRequestHeader(arg string, o valueOpts) (emitFunc, error) {
	return buildHeader(arg, o, requestRefs, func(r *Record) http.Header { return r.RequestHeader })
}

func buildResponseHeader(arg string, o valueOpts) (emitFunc, error) {
	return buildHeader(arg, o, responseRefs, func(r *Record) http.Header { return r.ResponseHeader })
}

func buildTrailer(arg string, o valueOpts) (emitFunc, error) {
	return buildHeader(arg, o, nil, func(r *Record) http.Header { return r.ResponseTrailer })
}

// buildHeader compiles X or X?Y: header X, else header Y, else "-".
func buildHeader(arg string, o valueOpts, known map[string]headerRef, headers func(*Record) http.Header) (emitFunc, error) {
	names := strings.Split(arg, "?")
	if len(names) > 2 {
		return nil, errors.New("at most one alternative header (X?Y) is allowed")
	}
	refs := make([]headerRef, len(names))
	for i, name := range names {
		ref, err := resolveHeader(name, known)
		if err != nil {
			return nil, err
		}
		refs[i] = ref
	}
	return func(dst []byte, r *Record) []byte {
		hdr := headers(r)
		for i := range refs {
			s, n, ok := refs[i].lookup(hdr, r)
			if !ok {
				continue
			}
			if s == "" {
				mark := len(dst)
				dst = strconv.AppendInt(dst, n, 10)
				if o.max > 0 && len(dst)-mark > o.max {
					dst = dst[:mark+o.max]
				}
				return dst
			}
			return appendValue(dst, s, o)
		}
		return append(dst, '-')
	}, nil
}

// resolveHeader checks a header name and finds its map key and fallback.
// Names are case-insensitive, as in Envoy.
func resolveHeader(name string, known map[string]headerRef) (headerRef, error) {
	lower := strings.ToLower(name)
	if ref, ok := known[lower]; ok {
		return ref, nil
	}
	token := strings.TrimPrefix(lower, ":")
	if token == "" || strings.IndexFunc(token, func(c rune) bool { return !isTokenByte(c) }) >= 0 {
		return headerRef{}, fmt.Errorf("invalid header name %q", name)
	}
	if lower[0] == ':' {
		// Other pseudo-headers, such as an extended CONNECT's :protocol,
		// are kept in the map under their lower-case name.
		return headerRef{key: lower}, nil
	}
	return headerRef{key: textproto.CanonicalMIMEHeaderKey(lower)}, nil
}

// isTokenByte reports whether c may appear in an HTTP header name (RFC 9110
// token).
func isTokenByte(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return c < 0x80 && strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0
}
