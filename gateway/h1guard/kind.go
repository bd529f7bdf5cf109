package h1guard

// Kind names the rule a request broke.
type Kind uint8

// The rules, each a way to desynchronise a proxy from the server behind it
// or to smuggle a request past it. Violations in a request head make net/http
// answer 400 (431 for HeadTooLarge) without calling the handler; violations in
// a chunked body or its trailer reach the handler as a failed body read.
const (
	RequestLine                      Kind = iota + 1 // method not upper case, target with a control byte, a space or a malformed escape, version not HTTP/1.x
	BareLF                                           // a line ends in LF without CR
	BareCR                                           // a CR not followed by LF
	ObsFold                                          // a header or trailer line starts with SP or HTAB
	HeaderName                                       // a field name that is not a token, or not followed directly by ':'
	HeaderValue                                      // a field value with a control byte other than HTAB
	DuplicateHost                                    // more than one Host field
	ContentLength                                    // Content-Length not 1 to 18 digits, or given twice
	TransferEncoding                                 // Transfer-Encoding other than one "chunked", or on HTTP/1.0
	ContentLengthAndTransferEncoding                 // both framing fields in one request
	HeadTooLarge                                     // request line and fields longer than Options.MaxHeaderBytes
	Chunk                                            // malformed chunk-size line, size over 2^40, or no CRLF after the data
	TrailerTooLarge                                  // trailer section longer than Options.MaxHeaderBytes
	Host                                             // a Host value with a byte no host name holds, or a space inside it
)

var kindNames = [...]string{
	0:                                "none",
	RequestLine:                      "request_line",
	BareLF:                           "bare_lf",
	BareCR:                           "bare_cr",
	ObsFold:                          "obs_fold",
	HeaderName:                       "header_name",
	HeaderValue:                      "header_value",
	DuplicateHost:                    "duplicate_host",
	ContentLength:                    "content_length",
	TransferEncoding:                 "transfer_encoding",
	ContentLengthAndTransferEncoding: "content_length_and_transfer_encoding",
	HeadTooLarge:                     "head_too_large",
	Chunk:                            "chunk",
	TrailerTooLarge:                  "trailer_too_large",
	Host:                             "host",
}

// String returns the kind in snake case, fit for a metric label.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown"
}
