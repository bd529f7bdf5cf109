package h1guard

// state is where the scanner stands in the byte stream. The head states come
// first, so that one comparison tells head from body.
type state uint8

const (
	stStart   state = iota // before a request line; up to two empty lines allowed
	stStartLF              // CR of an empty line before the request line
	stMethod
	stTarget
	stVersion    // "HTTP/1." and a digit, then CR
	stPreface    // the rest of the HTTP/2 preface's first 18 bytes
	stRequestLF  // CR of the request line
	stFieldStart // start of a field line or of the empty line
	stName
	stValue
	stFieldLF   // CR of a field line
	stEndLF     // CR of the empty line that ends a head or trailer
	stLength    // Content-Length body
	stChunkSize // the hex digits of a chunk-size line
	stChunkWS   // whitespace before ';' in a chunk-size line
	stExtPre    // after ';', before an extension name
	stExtName
	stExtNameWS     // whitespace after an extension name
	stExtValPre     // after '=', before an extension value
	stExtToken      // a token extension value
	stExtQuoted     // inside a quoted extension value
	stExtEscape     // after a backslash in a quoted value
	stExtAfterQuote // after the closing quote
	stChunkLF       // CR of a chunk-size line
	stChunkData
	stDataCR // the CRLF after chunk data
	stDataLF
	stPass // no longer HTTP/1: hand everything on
)

// field is a header field whose value the scanner reads.
type field uint8

const (
	fOther field = iota
	fHost
	fLength
	fEncoding
)

// fieldNames are lower case; the scanner folds the case of the name it reads.
var fieldNames = [...]string{fHost: "host", fLength: "content-length", fEncoding: "transfer-encoding"}

// Bits of scanner.seen.
const (
	seenHost = 1 << iota
	seenLength
	seenEncoding
)

const (
	maxEmptyLines = 2       // empty lines tolerated before a request line (RFC 9112 §2.2; Go skips them after a POST)
	maxLength     = 18      // digits of a Content-Length: fits an int64
	maxChunkDigit = 16      // hex digits of a chunk size, leading zeros included, as Go counts them
	maxChunk      = 1 << 40 // largest chunk accepted
	maxChunkLine  = 4096    // chunk-size line with its CRLF; Go's limit too
	prefaceTail   = ".0\r\n\r\n"
)

// scanner is the state machine over one connection's bytes. Its zero value
// is not ready: newScanner sets the head limit and marks the first message.
type scanner struct {
	state   state
	field   field
	seen    uint8
	first   bool  // the first message of the connection, which may be the HTTP/2 preface
	pri     bool  // the request line so far can be "PRI * HTTP/", the preface's start
	http10  bool  // the request is HTTP/1.0, whose Transfer-Encoding Go ignores
	trailer bool  // the field lines are a chunked body's trailer section
	esc     uint8 // where the request target stands in a percent escape
	lines   int   // empty lines before the request line
	idx     int   // position in a literal, or in a field value's little grammar
	n       int   // bytes of the current head or trailer section
	max     int   // limit of n
	digits  int   // digits of the Content-Length or chunk size being read
	line    int   // bytes of the current chunk-size line
	size    int64 // the Content-Length, then the bytes left of the body or chunk
}

func newScanner(maxHead int) scanner {
	return scanner{max: maxHead, first: true}
}

// scan checks b, the next bytes of the stream. It returns len(b) and 0 when
// all of b is fine, or the offset of the first offending byte and the rule
// it breaks. Once the state is stPass it returns len(b) for good.
func (s *scanner) scan(b []byte) (int, Kind) {
	i := 0
	for i < len(b) {
		var k Kind
		switch {
		case s.state == stPass:
			return len(b), 0
		case s.state <= stEndLF:
			room := s.max - s.n
			if room <= 0 {
				return i, s.tooLarge()
			}
			i, k = s.head(b[:min(len(b), i+room)], i)
		default:
			i, k = s.body(b, i)
		}
		if k != 0 {
			return i, k
		}
	}
	return i, 0
}

// inBody reports whether the scanner is past a request head, in a body or a
// trailer section.
func (s *scanner) inBody() bool {
	return s.trailer || s.state > stEndLF && s.state != stPass
}

func (s *scanner) tooLarge() Kind {
	if s.trailer {
		return TrailerTooLarge
	}
	return HeadTooLarge
}

// endMessage readies the scanner for the next request.
func (s *scanner) endMessage() {
	s.state, s.seen, s.n, s.lines = stStart, 0, 0, 0
	s.first, s.pri, s.http10, s.trailer = false, false, false, false
	s.esc = escNone
}
