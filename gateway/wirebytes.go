package gateway

import (
	"net/http"
	"strconv"
)

// The header sizes below are what istio_request_bytes and
// istio_response_bytes add to the body bytes, to count as Istio's stats
// filter does (Envoy's downstream wire bytes) while net/http hides the
// wire. What is counted, per protocol:
//
//   - HTTP/1: the head as written with one space after each colon: the
//     request or status line, a "Name: value\r\n" line for each value (the
//     Host line and, for a chunked body, Transfer-Encoding too, which
//     net/http takes out of the map; the Date net/http adds to a response),
//     and the empty line. Chunk framing is not counted.
//   - HTTP/2 and HTTP/3: the decoded header list, the names and values of
//     the pseudo-headers and fields summed as Envoy's HeaderMap::byteSize()
//     sums them. The HPACK or QPACK coded frames on the wire are smaller;
//     frame headers are not counted.
//
// Trailers are not counted.

// dateBytes is the Date field net/http adds to every response: its name and
// its 29 bytes of value, with ": " and CRLF on HTTP/1.
const (
	dateValueBytes = len("Mon, 02 Jan 2006 15:04:05 GMT")
	dateH1Bytes    = len("Date: \r\n") + dateValueBytes
	dateH2Bytes    = len("date") + dateValueBytes
)

// requestHeaderBytes is the size of r's header as the client sent it; it
// must run before the gateway changes the header map.
func requestHeaderBytes(r *http.Request, scheme string) int64 {
	if r.ProtoMajor >= 2 {
		n := len(":method") + len(r.Method) + len(":path") + len(r.RequestURI) + len(":authority") + len(r.Host)
		if r.Method != http.MethodConnect || r.Header[":protocol"] != nil {
			n += len(":scheme") + len(scheme)
		}
		return int64(n + fieldBytes(r.Header, 0))
	}
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2 + 2
	if r.Host != "" {
		n += len("Host: \r\n") + len(r.Host)
	}
	if len(r.TransferEncoding) > 0 {
		n += len("Transfer-Encoding: chunked\r\n")
	}
	return int64(n + fieldBytes(r.Header, 4))
}

// responseHeaderBytes is the size of the header of a response with status
// code and fields h, sent over HTTP/protoMajor.
func responseHeaderBytes(protoMajor, code int, h http.Header) int64 {
	_, date := h["Date"]
	if protoMajor >= 2 {
		n := len(":status") + 3 + fieldBytes(h, 0)
		if !date {
			n += dateH2Bytes
		}
		return int64(n)
	}
	text := http.StatusText(code)
	if text == "" {
		text = "status code " + strconv.Itoa(code)
	}
	n := len("HTTP/1.1 000 \r\n") + len(text) + fieldBytes(h, 4) + 2
	if !date {
		n += dateH1Bytes
	}
	return int64(n)
}

// fieldBytes sums the names and values of h's fields, each value a field
// of its own, plus sep bytes for each (": " and CRLF on HTTP/1).
func fieldBytes(h http.Header, sep int) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + sep
		}
	}
	return n
}
