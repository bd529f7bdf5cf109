package h1guard

// fieldFor guesses, from its first byte, which field a line names. Trailer
// fields frame nothing, so none of them is read.
func (s *scanner) fieldFor(c byte) field {
	if s.trailer {
		return fOther
	}
	switch c | 0x20 {
	case 'h':
		return fHost
	case 'c':
		return fLength
	case 't':
		return fEncoding
	}
	return fOther
}

// name reads field-name bytes from b[i:] and returns where they stop.
func (s *scanner) name(b []byte, i int) int {
	if s.field == fOther {
		for i < len(b) && isToken[b[i]] {
			i++
		}
		return i
	}
	want := fieldNames[s.field]
	for ; i < len(b) && isToken[b[i]]; i++ {
		// Only A-Z fold onto the lower-case letters and '-' of want.
		if s.idx >= len(want) || b[i]|0x20 != want[s.idx] {
			s.field = fOther
		}
		s.idx++
	}
	return i
}

// endField applies the rules that need a whole field line.
func (s *scanner) endField() Kind {
	switch s.field {
	case fHost:
		if s.seen&seenHost != 0 {
			return DuplicateHost
		}
		s.seen |= seenHost
	case fLength:
		switch {
		case s.seen&seenLength != 0:
			return ContentLength
		case s.seen&seenEncoding != 0:
			return ContentLengthAndTransferEncoding
		}
		s.seen |= seenLength
	case fEncoding:
		switch {
		case s.seen&seenLength != 0:
			return ContentLengthAndTransferEncoding
		case s.seen&seenEncoding != 0 || s.http10:
			return TransferEncoding
		}
		s.seen |= seenEncoding
	}
	return 0
}

// endHead moves on to what the head announced.
func (s *scanner) endHead() {
	switch {
	case s.trailer:
		s.endMessage()
	case s.seen&seenEncoding != 0:
		s.state, s.size, s.digits, s.line = stChunkSize, 0, 0, 0
	case s.seen&seenLength != 0 && s.size > 0:
		s.state = stLength
	default:
		s.endMessage()
	}
	s.n = 0
}
