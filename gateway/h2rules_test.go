package gateway

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestSettingsInOrder checks the rewriting of SETTINGS payloads: of each
// repeated identifier only the occurrence that decides keeps it, and x/net
// takes the result (no identifier twice) with the same outcome as
// processing the original in order.
func TestSettingsInOrder(t *testing.T) {
	iws, hts, mfs, push := http2.SettingInitialWindowSize, http2.SettingHeaderTableSize, http2.SettingMaxFrameSize, http2.SettingEnablePush
	s := func(id http2.SettingID, v uint32) http2.Setting { return http2.Setting{ID: id, Val: v} }
	many := make([]http2.Setting, 100)
	for i := range many {
		many[i] = s(http2.SettingID(0xfff0+i%3), uint32(i))
	}
	for _, tt := range []struct {
		name string
		in   []http2.Setting
		keep []int // the occurrences that stay; nil: the payload is unchanged
	}{
		{"no repeat", []http2.Setting{s(iws, 1), s(hts, 0), s(mfs, 20000)}, nil},
		{"window twice", []http2.Setting{s(iws, 100), s(iws, 1)}, []int{1}},
		{"window thrice among others", []http2.Setting{s(iws, 1), s(push, 0), s(iws, 100), s(mfs, 16384), s(iws, 7)}, []int{1, 3, 4}},
		{"invalid window first", []http2.Setting{s(iws, 1<<31), s(iws, 1)}, []int{0}},
		{"invalid window last", []http2.Setting{s(iws, 1), s(iws, 1<<31), s(iws, 5)}, []int{1}},
		{"invalid frame size between", []http2.Setting{s(mfs, 16384), s(mfs, 100), s(mfs, 1<<24)}, []int{1}},
		{"invalid push", []http2.Setting{s(push, 0), s(push, 2)}, []int{1}},
		{"invalid priorities setting", []http2.Setting{s(http2.SettingNoRFC7540Priorities, 2), s(http2.SettingNoRFC7540Priorities, 1)}, []int{0}},
		{"table shrinking", []http2.Setting{s(hts, 4096), s(hts, 100), s(hts, 0)}, []int{2}},
		{"table growing", []http2.Setting{s(hts, 0), s(hts, 4096)}, nil},
		{"table down and up", []http2.Setting{s(hts, 4096), s(hts, 0), s(hts, 4096)}, nil},
		{"unknown twice", []http2.Setting{s(0x10, 1), s(0x10, 2)}, []int{1}},
		{"spare taken", []http2.Setting{s(0xffff, 1), s(0xfffe, 2), s(iws, 1), s(iws, 2)}, []int{0, 1, 3}},
		{"100 settings, 3 identifiers", many, []int{97, 98, 99}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var in bytes.Buffer
			http2.NewFramer(&in, nil).WriteSettings(tt.in...)
			p := bytes.Clone(in.Bytes()[9:])
			settingsInOrder(p)
			if tt.keep == nil {
				if !bytes.Equal(p, in.Bytes()[9:]) {
					t.Errorf("payload changed: got %x, want %x", p, in.Bytes()[9:])
				}
				return
			}
			var got []http2.Setting
			for i := 0; i < len(p); i += 6 {
				got = append(got, http2.Setting{ID: http2.SettingID(binary.BigEndian.Uint16(p[i:])), Val: binary.BigEndian.Uint32(p[i+2:])})
			}
			for i := range got {
				for j := range i {
					if got[i].ID == got[j].ID {
						t.Errorf("settings %d and %d: both %v, want no identifier twice (x/net refuses it)", j, i, got[i].ID)
					}
				}
			}
			for i, want := range tt.in {
				switch {
				case slices.Contains(tt.keep, i) && got[i] != want:
					t.Errorf("setting %d: got %v, want %v kept", i, got[i], want)
				case !slices.Contains(tt.keep, i) && (got[i].ID < 0xff00 || got[i].Val != want.Val || slices.Contains(tt.in, got[i])):
					t.Errorf("setting %d: got %v, want %d under an identifier the server ignores", i, got[i], want.Val)
				}
			}
		})
	}
}

// chunkConn is a connection whose reads return data in chunks of the sizes
// in splits (each plus 1, then the rest at once), then io.EOF. Only Read is
// used.
type chunkConn struct {
	net.Conn
	data, splits []byte
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(c.data)
	if len(c.splits) > 0 {
		n, c.splits = min(n, int(c.splits[0])+1), c.splits[1:]
	}
	n = copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// readGuard reads everything a conformGuard over data hands on, in reads
// of the sizes in sizes (each plus 1, cycled; 64 KiB when empty), and the
// error it ends with.
func readGuard(t testing.TB, data []byte, preface bool, splits, sizes []byte) ([]byte, error) {
	g := newConformGuard(&chunkConn{data: data, splits: splits}, !preface, 0)
	var out []byte
	buf := make([]byte, 64<<10)
	for i := 0; ; i++ {
		size := len(buf)
		if len(sizes) > 0 {
			size = int(sizes[i%len(sizes)]) + 1
		}
		n, err := g.Read(buf[:size])
		out = append(out, buf[:n]...)
		if err != nil {
			return out, err
		}
		if n == 0 {
			t.Fatalf("read %d returned nothing and no error", i)
		}
	}
}

// TestConformGuardReads checks what the server reads through a
// conformGuard, however the client's bytes arrive and however the server
// reads them: the bytes unchanged, but for repeated settings rewritten and
// a WINDOW_UPDATE of 0 after a malformed request's header block; up to a
// broken block's frame header, then the connection error.
func TestConformGuardReads(t *testing.T) {
	type stream struct{ in, want bytes.Buffer }
	// both writes frames to the stream's input and to what the server
	// reads alike.
	both := func(s *stream, write func(fr *http2.Framer)) {
		write(http2.NewFramer(&s.in, nil))
		write(http2.NewFramer(&s.want, nil))
	}
	var enc *hpack.Encoder
	var block bytes.Buffer
	fields := func(f ...string) []byte {
		block.Reset()
		for i := 0; i+1 < len(f); i += 2 {
			enc.WriteField(hpack.HeaderField{Name: f[i], Value: f[i+1]})
		}
		return bytes.Clone(block.Bytes())
	}
	get := []string{":method", "GET", ":scheme", "https", ":authority", "example.com", ":path", "/"}
	start := func() *stream {
		enc = hpack.NewEncoder(&block)
		s := new(stream)
		s.in.WriteString(http2.ClientPreface)
		s.want.WriteString(http2.ClientPreface)
		both(s, func(fr *http2.Framer) { fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0}) })
		return s
	}
	var clean, settings, malformed, broken *stream
	{
		s := start()
		b1, b3 := fields(get...), fields(append(get, "te", "trailers", "x-long", string(bytes.Repeat([]byte("v"), 300)))...)
		trailers := fields("grpc-status", "0")
		both(s, func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b1, EndStream: true, EndHeaders: true})
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: b3[:100], PadLength: 20, Priority: http2.PriorityParam{Weight: 3}})
			fr.WriteContinuation(3, false, b3[100:101])
			fr.WriteContinuation(3, true, b3[101:])
			fr.WriteData(3, true, bytes.Repeat([]byte("d"), 1000))
			fr.WriteRSTStream(1, http2.ErrCodeCancel)
			fr.WritePing(false, [8]byte{1})
			fr.WriteSettings()
			fr.WriteSettingsAck()
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: trailers, EndStream: true, EndHeaders: true})
		})
		clean = s
	}
	{
		s := start()
		iws := http2.SettingInitialWindowSize
		http2.NewFramer(&s.in, nil).WriteSettings(http2.Setting{ID: iws, Val: 100}, http2.Setting{ID: iws, Val: 1})
		http2.NewFramer(&s.want, nil).WriteSettings(http2.Setting{ID: 0xffff, Val: 100}, http2.Setting{ID: iws, Val: 1})
		b := fields(get...)
		both(s, func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b, EndStream: true, EndHeaders: true})
		})
		settings = s
	}
	{
		s := start()
		b := fields(append(get, "connection", "close")...)
		both(s, func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:5]})
			fr.WriteContinuation(1, true, b[5:])
		})
		http2.NewFramer(&s.want, nil).WriteRawFrame(http2.FrameWindowUpdate, 0, 1, []byte{0, 0, 0, 0})
		// The same fields again, now from the HPACK table, and a request
		// without them.
		again, good := fields(append(get, "connection", "close")...), fields(get...)
		both(s, func(fr *http2.Framer) {
			fr.WriteData(1, true, []byte("body"))
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: again, EndStream: true, EndHeaders: true})
		})
		http2.NewFramer(&s.want, nil).WriteRawFrame(http2.FrameWindowUpdate, 0, 3, []byte{0, 0, 0, 0})
		both(s, func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: good, EndStream: true, EndHeaders: true})
		})
		malformed = s
	}
	{
		s := start()
		b := fields(get...)
		both(s, func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b, EndStream: true, EndHeaders: true})
		})
		s.want.Write([]byte{0, 0, 1, h2FrameHeaders, h2FlagEndHeaders | 0x1, 0, 0, 0, 3})
		// An index past both tables.
		http2.NewFramer(&s.in, nil).WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: []byte{0xfe}, EndStream: true, EndHeaders: true})
		http2.NewFramer(&s.in, nil).WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: fields(get...), EndStream: true, EndHeaders: true})
		broken = s
	}
	for _, tt := range []struct {
		name string
		s    *stream
		err  error
	}{
		{"clean", clean, io.EOF},
		{"repeated settings", settings, io.EOF},
		{"malformed requests", malformed, io.EOF},
		{"block that does not decode", broken, http2.ConnectionError(http2.ErrCodeCompression)},
	} {
		for _, preface := range []bool{true, false} {
			in, want := tt.s.in.Bytes(), tt.s.want.Bytes()
			if !preface {
				in, want = in[len(http2.ClientPreface):], want[len(http2.ClientPreface):]
			}
			for _, split := range [][]byte{nil, {0}, {6}, {12, 255, 3}} {
				for _, size := range [][]byte{nil, {0}, {8, 2}, {4, 250, 0}} {
					got, err := readGuard(t, in, preface, slices.Repeat(split, 3000), size)
					if !bytes.Equal(got, want) || !errors.Is(err, tt.err) {
						t.Errorf("%s, preface %v, chunks %v, reads %v: got %d bytes (%v), want %d (%v)\ngot  %x\nwant %x",
							tt.name, preface, split, size, len(got), err, len(want), tt.err, got, want)
					}
				}
			}
		}
	}
}

// FuzzConformGuard checks that what the server reads through a conformGuard
// does not depend on how the client's bytes arrive or how the server reads
// them, and that no bytes make the guard panic or stall.
//
//	go test ./gateway -run '^$' -fuzz '^FuzzConformGuard$' -fuzztime 30s
func FuzzConformGuard(f *testing.F) {
	frame := func(typ, flags byte, stream uint32, payload []byte) []byte {
		b := []byte{byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload)), typ, flags, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[5:], stream)
		return append(b, payload...)
	}
	settings := []byte{0, 4, 0, 0, 0, 100, 0, 4, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0}
	req := headerBlock(":method", "GET", ":path", "/", "te", "gzip")
	f.Add(slices.Concat([]byte(http2.ClientPreface), frame(h2FrameSettings, 0, 0, settings), frame(h2FrameHeaders, 0x5, 1, req)), true, []byte{3, 9}, []byte{8, 0})
	f.Add(slices.Concat(frame(h2FrameHeaders, 0x1, 1, req[:4]), frame(h2FrameContinuation, 0x4, 1, req[4:]), frame(0x0, 0x1, 1, []byte("xy"))), false, []byte{0}, []byte{})
	f.Add(slices.Concat(frame(h2FrameHeaders, 0x2d, 3, append([]byte{2, 0, 0, 0, 0, 9}, append(req, 0, 0)...)), frame(h2FrameHeaders, 0x4, 5, nil)), false, []byte{}, []byte{1, 200})
	f.Add(frame(h2FrameContinuation, 0x4, 1, req), false, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, data []byte, preface bool, splits, sizes []byte) {
		want, wantErr := readGuard(t, data, preface, nil, nil)
		got, err := readGuard(t, data, preface, splits, sizes)
		if !bytes.Equal(got, want) || err != wantErr {
			t.Fatalf("split %v, reads %v: got %d bytes (%v), want %d (%v)", splits, sizes, len(got), err, len(want), wantErr)
		}
	})
}
