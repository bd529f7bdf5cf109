package gateway

import (
	"encoding/binary"
	"testing"
)

// FuzzH2Scanner checks that the reset guard's frame scanner finds, in any
// bytes split at any points into reads, exactly the frame headers a
// whole-buffer parse finds, each ending where that parse says, so that a
// client cannot hide a HEADERS or RST_STREAM frame from the count, or make
// the guard cut the server's reads anywhere but at a frame's end, by how it
// splits its bytes.
//
//	go test ./gateway -run '^$' -fuzz '^FuzzH2Scanner$' -fuzztime 30s
func FuzzH2Scanner(f *testing.F) {
	frame := func(typ byte, stream uint32, payload int) []byte {
		b := []byte{byte(payload >> 16), byte(payload >> 8), byte(payload), typ, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[5:], stream)
		return append(b, make([]byte, payload)...)
	}
	pair := append(frame(h2FrameHeaders, 1, 13), frame(h2FrameRSTStream, 1, 4)...)
	f.Add(append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), pair...), true, []byte{1, 9, 3})
	f.Add(pair, false, []byte{8, 1})
	f.Add(frame(0x0, 3, 1<<14), false, []byte{200})
	f.Add(frame(h2FrameRSTStream, 1<<31|5, 4), false, []byte{})
	f.Fuzz(func(t *testing.T, data []byte, preface bool, splits []byte) {
		type found struct {
			h   h2FrameHeader
			end int
		}
		skip := 0
		if preface {
			skip = 24
		}
		var want []found
		for i := skip; i+9 <= len(data); {
			h := h2FrameHeader{
				length: int(data[i])<<16 | int(data[i+1])<<8 | int(data[i+2]),
				typ:    data[i+3],
				flags:  data[i+4],
				stream: binary.BigEndian.Uint32(data[i+5:]) & (1<<31 - 1),
			}
			i += 9 + h.length
			want = append(want, found{h, i})
		}
		s := h2Scanner{skip: skip}
		var got []found
		for off := 0; off < len(data); {
			n := len(data) - off
			if len(splits) > 0 {
				n = min(n, int(splits[0])+1)
				splits = splits[1:]
			}
			s.scan(data[off:off+n], func(h h2FrameHeader, end int) bool {
				got = append(got, found{h, off + end})
				return false
			})
			off += n
		}
		if len(got) != len(want) {
			t.Fatalf("got %d frames, want %d:\ngot  %v\nwant %v", len(got), len(want), got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("frame %d: got %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}
