package h1guard

// body scans a message body from b[i:]. Data is skipped by count; the
// chunk-size lines and the CRLF after each chunk's data are read byte by
// byte. It returns where it stopped: at the end of b, where the body ends
// or a trailer section begins, or at an offending byte.
func (s *scanner) body(b []byte, i int) (int, Kind) {
	for i < len(b) {
		switch s.state {
		case stLength, stChunkData:
			n := min(int64(len(b)-i), s.size)
			i += int(n)
			s.size -= n
			if s.size > 0 {
				break
			}
			if s.state == stChunkData {
				s.state = stDataCR
				break
			}
			s.endMessage()
			return i, 0
		case stDataCR:
			if b[i] != '\r' {
				return i, unexpected(b[i], Chunk)
			}
			s.state = stDataLF
			i++
		case stDataLF:
			if b[i] != '\n' {
				return i, BareCR
			}
			s.state, s.size, s.digits, s.line = stChunkSize, 0, 0, 0
			i++
		default:
			s.line++
			if s.line > maxChunkLine {
				return i, Chunk
			}
			if k := s.chunkLine(b[i]); k != 0 {
				return i, k
			}
			i++
			if s.state == stFieldStart {
				return i, 0 // the trailer section, read as a head
			}
		}
	}
	return i, 0
}

// chunkLine reads one byte of a chunk-size line:
//
//	chunk-size [ chunk-ext ] CRLF
//	chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-value ] )
//
// with ext-value a token or a quoted string (RFC 9112 §7.1). Go only cuts the
// extensions off, so the guard is the one to check them.
func (s *scanner) chunkLine(c byte) Kind {
	ws := c == ' ' || c == '\t'
	switch s.state {
	case stChunkSize:
		if v := hexValue[c]; v >= 0 {
			s.digits++
			s.size = s.size<<4 | int64(v)
			if s.digits > maxChunkDigit || s.size > maxChunk {
				return Chunk
			}
			return 0
		}
		if s.digits > 0 {
			return s.afterExt(c, ws)
		}
	case stChunkWS:
		switch {
		case ws:
			return 0
		case c == ';':
			s.state = stExtPre
			return 0
		}
	case stExtPre:
		switch {
		case ws:
			return 0
		case isToken[c]:
			s.state = stExtName
			return 0
		}
	case stExtName, stExtNameWS:
		switch {
		case ws:
			s.state = stExtNameWS
			return 0
		case c == '=':
			s.state = stExtValPre
			return 0
		case c == ';':
			s.state = stExtPre
			return 0
		case s.state == stExtName && isToken[c]:
			return 0
		case s.state == stExtName && c == '\r':
			s.state = stChunkLF
			return 0
		}
	case stExtValPre:
		switch {
		case ws:
			return 0
		case isToken[c]:
			s.state = stExtToken
			return 0
		case c == '"':
			s.state = stExtQuoted
			return 0
		}
	case stExtToken:
		if isToken[c] {
			return 0
		}
		return s.afterExt(c, ws)
	case stExtQuoted:
		switch {
		case isQuoted[c]:
			return 0
		case c == '\\':
			s.state = stExtEscape
			return 0
		case c == '"':
			s.state = stExtAfterQuote
			return 0
		}
	case stExtEscape:
		if isValue[c] {
			s.state = stExtQuoted
			return 0
		}
	case stExtAfterQuote:
		return s.afterExt(c, ws)
	case stChunkLF:
		if c != '\n' {
			return BareCR
		}
		s.endChunkLine()
		return 0
	}
	return unexpected(c, Chunk)
}

// afterExt handles the byte after a chunk size or an extension value:
// whitespace before the next ';', the ';', or the CR that ends the line.
func (s *scanner) afterExt(c byte, ws bool) Kind {
	switch {
	case ws:
		s.state = stChunkWS
	case c == ';':
		s.state = stExtPre
	case c == '\r':
		s.state = stChunkLF
	default:
		return unexpected(c, Chunk)
	}
	return 0
}

// endChunkLine moves on to the chunk's data, or after the last chunk to the
// trailer section.
func (s *scanner) endChunkLine() {
	if s.size > 0 {
		s.state = stChunkData
		return
	}
	s.state, s.trailer, s.n = stFieldStart, true, 0
}
