package gateway

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
)

// protocolName returns the protocol as Envoy's %PROTOCOL% prints it.
func protocolName(r *http.Request) string {
	switch r.ProtoMajor {
	case 3:
		return "HTTP/3"
	case 2:
		return "HTTP/2"
	}
	if r.ProtoMinor == 0 {
		return "HTTP/1.0"
	}
	return "HTTP/1.1"
}

// splitTarget returns the request's escaped path and raw query as the client
// sent them, before any decoding; an absolute form has already become its
// origin form (see toOriginForm). ok is false for a target the gateway does
// not route: any other form (asterisk, authority, or an absolute :path,
// which HTTP/2 and HTTP/3 do not allow). routes.NormalizeQuery checks the
// query as NormalizePath checks the path.
func splitTarget(r *http.Request) (path, query string, ok bool) {
	target := r.RequestURI
	if !strings.HasPrefix(target, "/") {
		return "", "", false
	}
	path, query, _ = strings.Cut(target, "?")
	return path, query, true
}

func withQuery(path, query string) string {
	if query == "" {
		return path
	}
	return path + "?" + query
}

func schemeOf(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// httpsURL is where redirect_https sends a request: the same host, the
// normalised path and the query on the gateway's TLS port.
func httpsURL(r *http.Request, port, path, query string) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" && port != "443" {
		host += ":" + port
	}
	return "https://" + host + withQuery(path, query)
}

// requestID returns the request's x-request-id, generating one (a random
// UUID) when it is absent or unfit to pass on, and sets it in h so the
// upstream gets the same id.
func requestID(h http.Header) string {
	if v := h["X-Request-Id"]; len(v) == 1 && validRequestID(v[0]) {
		return v[0]
	}
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	id := string(s[:])
	h["X-Request-Id"] = []string{id}
	return id
}

// validRequestID accepts ids of up to 128 visible ASCII characters, so a
// client cannot put spaces, quotes or control bytes into every log line.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func tlsCipherName(c uint16) string { return tls.CipherSuiteName(c) }
