package h1guard

// head scans a request head or a trailer section from b[i:]. It returns
// where it stopped: at the end of b, just after the head (with the state
// moved on to the body or the next request), or at an offending byte.
func (s *scanner) head(b []byte, i int) (int, Kind) {
	start := i
	for i < len(b) {
		c := b[i]
		switch s.state {
		case stStart:
			switch {
			case isMethod[c]:
				s.state, s.idx = stMethod, 1
				s.pri = s.first && s.lines == 0 && c == 'P'
			case c == '\r' && s.lines < maxEmptyLines:
				s.state = stStartLF
			default:
				return i, unexpected(c, RequestLine)
			}
			i++
		case stStartLF:
			if c != '\n' {
				return i, BareCR
			}
			s.state = stStart
			s.lines++
			i++
		case stMethod:
			for ; i < len(b) && isMethod[b[i]]; i++ {
				s.pri = s.pri && s.idx < 3 && b[i] == "PRI"[s.idx]
				s.idx++
			}
			if i == len(b) {
				break
			}
			if b[i] != ' ' {
				return i, unexpected(b[i], RequestLine)
			}
			s.pri = s.pri && s.idx == 3
			s.state, s.idx = stTarget, 0
			i++
		case stTarget:
			j := i
			for i < len(b) && isTarget[b[i]] {
				// Only escapes and the query's start change the escape
				// state: other bytes go by on one comparison more.
				if c := b[i]; (c == '%' || c == '?' || s.esc == escOne || s.esc == escHalf) && !s.targetByte(c) {
					return i, RequestLine
				}
				i++
			}
			if s.pri && i > j {
				s.pri = s.idx == 0 && i-j == 1 && b[j] == '*'
			}
			s.idx += i - j
			if i == len(b) {
				break
			}
			if b[i] != ' ' || s.idx == 0 || s.esc == escHalf || s.esc == escOne {
				return i, unexpected(b[i], RequestLine)
			}
			s.state, s.idx, s.esc = stVersion, 0, escNone
			i++
		case stVersion:
			if k := s.version(c); k != 0 {
				return i, k
			}
			i++
		case stPreface:
			if c != prefaceTail[s.idx] {
				return i, unexpected(c, RequestLine)
			}
			s.idx++
			i++
			if s.idx == len(prefaceTail) {
				// Whether the server speaks h2c or answers this as one
				// request and closes, it parses no HTTP/1 after it.
				s.state = stPass
				return i, 0
			}
		case stRequestLF, stFieldLF:
			if c != '\n' {
				return i, BareCR
			}
			if s.state == stFieldLF {
				if k := s.endField(); k != 0 {
					return i, k
				}
			}
			s.state = stFieldStart
			i++
		case stFieldStart:
			switch {
			case isToken[c]:
				s.state, s.field, s.idx = stName, s.fieldFor(c), 1
			case c == '\r':
				s.state = stEndLF
			case c == ' ' || c == '\t':
				return i, ObsFold
			default:
				return i, unexpected(c, HeaderName)
			}
			i++
		case stName:
			i = s.name(b, i)
			if i == len(b) {
				break
			}
			if b[i] != ':' {
				return i, unexpected(b[i], HeaderName)
			}
			if s.field != fOther && s.idx != len(fieldNames[s.field]) {
				s.field = fOther
			}
			if s.field == fLength {
				s.digits, s.size = 0, 0
			}
			s.state, s.idx = stValue, 0
			i++
		case stValue:
			var k Kind
			if i, k = s.value(b, i); k != 0 {
				return i, k
			}
		case stEndLF:
			if c != '\n' {
				return i, BareCR
			}
			s.endHead()
			return i + 1, 0
		}
	}
	s.n += i - start
	return i, 0
}

// version reads the request line from "HTTP/" on. A '2' where "HTTP/1"
// wants its '1' starts the HTTP/2 preface, when the line so far was
// "PRI * HTTP/" and opens the connection.
func (s *scanner) version(c byte) Kind {
	const v = "HTTP/1."
	switch {
	case s.idx < len(v):
		if c == v[s.idx] {
			s.idx++
			return 0
		}
		if s.idx == 5 && c == '2' && s.pri {
			s.state, s.idx = stPreface, 0
			return 0
		}
	case s.idx == len(v):
		if '0' <= c && c <= '9' {
			s.http10 = c == '0'
			s.idx++
			return 0
		}
	case c == '\r':
		s.state = stRequestLF
		return 0
	}
	return unexpected(c, RequestLine)
}

// Where a request target stands in a percent escape (scanner.esc). net/http
// refuses a target whose escapes before the query are not '%' and two hex
// digits (url.ParseRequestURI), before the gateway sees it; the guard
// refuses it first, so that the refusal is logged.
const (
	escNone  = iota // not in an escape
	escOne          // after '%'
	escHalf         // after '%' and one hex digit
	escQuery        // in the query, whose escapes net/http leaves alone
)

// targetByte follows c, the next byte of a target, through its escapes and
// reports whether it may stand there.
func (s *scanner) targetByte(c byte) bool {
	switch s.esc {
	case escNone:
		switch c {
		case '%':
			s.esc = escOne
		case '?':
			s.esc = escQuery
		}
	case escOne:
		s.esc = escHalf
		return hexValue[c] >= 0
	case escHalf:
		s.esc = escNone
		return hexValue[c] >= 0
	}
	return true
}
