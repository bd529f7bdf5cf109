package gateway

import (
	"net/url"
	"strings"
)

// setPath makes the escaped path, which NormalizePath gave, u's request
// target byte for byte, over HTTP/1 and HTTP/2 alike: the path the route
// matched is the path the upstream reads.
//
// Both transports write url.URL.Opaque as it is (HTTP/1 in the request line,
// HTTP/2 as :path), where Path and RawPath would go through
// url.URL.EscapedPath, which re-escapes the decoded path whenever it judges
// RawPath not a valid encoding (turning %2F into a slash) and escapes some
// sub-delimiters that came raw. An Opaque that starts with "//" is written
// as a scheme-relative URL ("http://..."), so such a path goes in RawPath
// alone: a normalised path is always a valid encoding, which EscapedPath
// returns unchanged. Path holds the decoded path for readers of the URL. An
// empty query is no query, as splitTarget and the access log read it, so a
// bare "?" is not forwarded.
func setPath(u *url.URL, escaped string) {
	p, err := url.PathUnescape(escaped)
	if err != nil { // NormalizePath accepted only valid escapes
		p = escaped
	}
	u.Path, u.RawPath, u.Opaque, u.ForceQuery = p, escaped, "", false
	if !strings.HasPrefix(escaped, "//") {
		u.Opaque = escaped
	}
}
