package gateway

import "encoding/binary"

// HTTP/2 frame types and flags the guards follow (RFC 9113, section 6).
const (
	h2FrameHeaders      = 0x1
	h2FrameRSTStream    = 0x3
	h2FrameSettings     = 0x4
	h2FrameWindowUpdate = 0x8
	h2FrameContinuation = 0x9

	h2FlagAck        = 0x1 // SETTINGS
	h2FlagEndHeaders = 0x4 // HEADERS, CONTINUATION
	h2FlagPadded     = 0x8 // HEADERS
	h2FlagPriority   = 0x20
)

// h2FrameHeader is what the guards read of a frame.
type h2FrameHeader struct {
	length int
	typ    byte
	flags  byte
	stream uint32
}

// h2Scanner follows one direction of an HTTP/2 connection frame by frame,
// however the bytes are split into reads or writes. It reads only the
// 9-byte frame headers and counts its way over the payloads.
type h2Scanner struct {
	skip   int // bytes of the client connection preface still to pass
	hdr    [9]byte
	have   int // bytes of hdr gathered
	remain int // payload bytes of the current frame still to pass
}

// scan passes over p and calls each for every frame header that completes
// in it, with the offset in p where that frame ends (past len(p) when the
// frame goes on in later bytes). When each returns true, scan stops and
// returns true, with the rest of p unread and the scanner left where it
// stopped.
func (s *h2Scanner) scan(p []byte, each func(h h2FrameHeader, end int) (stop bool)) bool {
	for i := 0; i < len(p); {
		switch {
		case s.skip > 0:
			k := min(s.skip, len(p)-i)
			s.skip -= k
			i += k
		case s.remain > 0:
			k := min(s.remain, len(p)-i)
			s.remain -= k
			i += k
		default:
			k := copy(s.hdr[s.have:], p[i:])
			s.have += k
			i += k
			if s.have < len(s.hdr) {
				continue
			}
			s.have = 0
			h := h2FrameHeader{
				length: int(s.hdr[0])<<16 | int(s.hdr[1])<<8 | int(s.hdr[2]),
				typ:    s.hdr[3],
				flags:  s.hdr[4],
				stream: binary.BigEndian.Uint32(s.hdr[5:]) & (1<<31 - 1),
			}
			s.remain = h.length
			if each(h, i+h.length) {
				return true
			}
		}
	}
	return false
}
