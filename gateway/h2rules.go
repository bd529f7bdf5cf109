package gateway

import (
	"encoding/binary"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// headerBlock decodes the fragment a HEADERS or CONTINUATION frame carries
// and, at the end of a request's block, has the server read a WINDOW_UPDATE
// of 0 on its stream when the request is malformed. It returns the code of
// the connection error the frame is, with false.
func (c *conformGuard) headerBlock(h h2FrameHeader, p []byte) (http2.ErrCode, bool) {
	if h.typ == h2FrameHeaders {
		if h.stream == 0 || c.block != 0 {
			// x/net ends the connection the same way (sections 6.2, 6.10).
			return http2.ErrCodeProtocol, false
		}
		pad := 0
		if h.flags&h2FlagPadded != 0 {
			if len(p) < 1 {
				return http2.ErrCodeFrameSize, false
			}
			pad, p = int(p[0]), p[1:]
		}
		if h.flags&h2FlagPriority != 0 {
			if len(p) < 5 {
				return http2.ErrCodeFrameSize, false
			}
			p = p[5:]
		}
		if pad > len(p) {
			// Section 6.2 makes this a connection error; x/net resets
			// the stream without decoding the block.
			return http2.ErrCodeProtocol, false
		}
		p = p[:len(p)-pad]
		// Client streams are odd and rise; a HEADERS frame on an open
		// stream carries trailers, which x/net checks itself.
		c.block, c.request, c.bad, c.te = h.stream, h.stream%2 == 1 && h.stream > c.last, false, false
		if c.request {
			c.last = h.stream
		}
		if c.dec == nil {
			c.dec = hpack.NewDecoder(h2HeaderTableSize, c.field)
			c.dec.SetMaxStringLength(c.maxStr)
		}
	} else if h.stream != c.block || c.block == 0 {
		return http2.ErrCodeProtocol, false
	}
	if _, err := c.dec.Write(p); err != nil {
		return http2.ErrCodeCompression, false
	}
	if h.flags&h2FlagEndHeaders == 0 {
		return 0, true
	}
	c.block = 0
	if err := c.dec.Close(); err != nil {
		return http2.ErrCodeCompression, false
	}
	if c.request && c.bad {
		c.ready = []byte{0, 0, 4, h2FrameWindowUpdate, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(c.ready[5:], h.stream)
	}
	return 0, true
}

// field notes a request's header field that makes it malformed (RFC 9113,
// section 8.2.2). Field names are lower case on the wire; x/net resets the
// stream of one that is not. TE is a list: an empty one holds no value
// other than "trailers", as x/net reads it too. The guard thus flags just
// the requests x/net answers 400 itself, so the gateway's handler never
// runs for one (it could forward it before the reset).
func (c *conformGuard) field(f hpack.HeaderField) {
	if !c.request || c.bad {
		return
	}
	switch f.Name {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		c.bad = true
	case "te":
		// Two TE fields are "trailers, trailers", as x/net too reads them.
		c.bad = c.te || f.Value != "trailers" && f.Value != ""
		c.te = true
	}
}

// settingsInOrder rewrites the payload of a SETTINGS frame that carries an
// identifier more than once so that x/net's server, which refuses such a
// frame, applies it as processing its values in order would: of each
// repeated identifier, the occurrence that decides stays (the first one
// the server finds invalid, which ends the connection with its error; else
// the last one), and the others get identifiers the frame does not use and
// the server ignores. One case stays refused: a header table size followed
// by a larger one, since the server's encoder must then signal the smaller
// (RFC 7541, section 4.2) and cannot be told both.
func settingsInOrder(p []byte) {
	n := len(p) / 6
	var decidesBuf [100]int // x/net refuses a frame of more settings
	if n > len(decidesBuf) {
		return
	}
	id := func(i int) http2.SettingID { return http2.SettingID(binary.BigEndian.Uint16(p[6*i:])) }
	setting := func(i int) http2.Setting {
		return http2.Setting{ID: id(i), Val: binary.BigEndian.Uint32(p[6*i+2:])}
	}
	// decides[i] is the occurrence that decides the identifier of i.
	decides := decidesBuf[:n]
	repeated := false
	for i := range n {
		decides[i] = -1
	}
	for i := range n {
		if decides[i] >= 0 {
			continue
		}
		d, k := i, 1
		invalid := !settingValid(setting(i))
		for j := i + 1; j < n; j++ {
			if id(j) != id(i) {
				continue
			}
			k++
			if !invalid {
				d, invalid = j, !settingValid(setting(j))
			}
		}
		if k == 1 {
			decides[i] = i
			continue
		}
		repeated = true
		for j := i; j < n; j++ {
			if id(j) != id(i) {
				continue
			}
			if id(i) == http2.SettingHeaderTableSize && !invalid && setting(j).Val < setting(d).Val {
				return
			}
			decides[j] = d
		}
	}
	if !repeated {
		return
	}
	spare := http2.SettingID(0xffff)
	for i := range n {
		if decides[i] == i {
			continue
		}
		for used(p, spare) {
			spare--
		}
		binary.BigEndian.PutUint16(p[6*i:], uint16(spare))
	}
}

// settingValid reports whether x/net's server takes s.
func settingValid(s http2.Setting) bool {
	return s.Valid() == nil && (s.ID != http2.SettingNoRFC7540Priorities || s.Val <= 1)
}

// used reports whether the SETTINGS payload p carries identifier id.
func used(p []byte, id http2.SettingID) bool {
	for i := 0; i+6 <= len(p); i += 6 {
		if http2.SettingID(binary.BigEndian.Uint16(p[i:])) == id {
			return true
		}
	}
	return false
}
