package h1guard

// value reads field-value bytes from b[i:]. It returns where it stopped: at
// the end of b, after the CR that ends the value, or at an offending byte.
// Content-Length and Transfer-Encoding values are parsed as they pass;
// every other value only has its bytes checked.
func (s *scanner) value(b []byte, i int) (int, Kind) {
	if s.field == fOther {
		for i < len(b) && isValue[b[i]] {
			i++
		}
		if i == len(b) {
			return i, 0
		}
		if b[i] != '\r' {
			return i, unexpected(b[i], HeaderValue)
		}
		s.state = stFieldLF
		return i + 1, 0
	}
	for ; i < len(b); i++ {
		var k Kind
		switch s.field {
		case fLength:
			k = s.lengthByte(b[i])
		case fHost:
			k = s.hostByte(b[i])
		default:
			k = s.encodingByte(b[i])
		}
		if k != 0 {
			return i, k
		}
		if s.state == stFieldLF {
			return i + 1, 0
		}
	}
	return i, 0
}

// lengthByte reads a Content-Length value: optional whitespace, 1 to 18
// digits, optional whitespace. s.idx is 0 before the digits, 1 in them, 2
// after them.
func (s *scanner) lengthByte(c byte) Kind {
	switch {
	case c == ' ' || c == '\t':
		if s.idx == 1 {
			s.idx = 2
		}
	case '0' <= c && c <= '9' && s.idx < 2:
		s.idx = 1
		s.digits++
		if s.digits > maxLength {
			return ContentLength
		}
		s.size = s.size*10 + int64(c-'0')
	case c == '\r' && s.idx > 0:
		s.state = stFieldLF
	default:
		return unexpected(c, ContentLength)
	}
	return 0
}

// encodingByte reads a Transfer-Encoding value, which must be "chunked" in
// any case with optional whitespace around it: any other coding Go answers
// with 501, and a list could hide "chunked" from one parser but not another.
// s.idx counts the letters matched; past them it is len("chunked")+1.
func (s *scanner) encodingByte(c byte) Kind {
	const te = "chunked"
	switch {
	case c == ' ' || c == '\t':
		switch {
		case s.idx == len(te):
			s.idx++
		case s.idx > 0 && s.idx < len(te):
			return TransferEncoding
		}
	case c == '\r' && s.idx >= len(te):
		s.state = stFieldLF
	case s.idx < len(te) && c|0x20 == te[s.idx]:
		s.idx++
	default:
		return unexpected(c, TransferEncoding)
	}
	return 0
}

// hostByte reads a Host value: optional whitespace, the bytes net/http takes
// in a host, optional whitespace. s.idx is 0 before the host, 1 in it, 2
// after it. net/http refuses any other value before the gateway sees the
// request, so the guard refuses it first and the refusal is logged.
func (s *scanner) hostByte(c byte) Kind {
	switch {
	case c == ' ' || c == '\t':
		if s.idx == 1 {
			s.idx = 2
		}
	case isHost[c] && s.idx < 2:
		s.idx = 1
	case c == '\r':
		s.state = stFieldLF
	case !isValue[c]:
		return unexpected(c, HeaderValue)
	default:
		return Host
	}
	return 0
}
