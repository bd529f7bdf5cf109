package gateway

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// h2Listener is one of resetGateway's HTTP/2 listeners, for dialH2.
type h2Listener struct {
	name string
	ca   *testCA // nil for h2c
}

func h2Listeners(ca *testCA) []h2Listener {
	return []h2Listener{{"tls", ca}, {"h2c", nil}}
}

// TestHTTP2FrameSize checks that the gateway reads frames of at most 16 KiB,
// RFC 9113's default, and says so in its SETTINGS: a larger frame, of any
// type, is a connection error FRAME_SIZE_ERROR (section 4.2). A HEADERS
// frame whose padding runs past its end is a connection error too (6.2).
func TestHTTP2FrameSize(t *testing.T) {
	ca := newTestCA(t)
	tg := resetGateway(t, ca, newBackend(t, nil))
	for _, l := range h2Listeners(ca) {
		t.Run(l.name, func(t *testing.T) {
			addr := tg.Addr(l.name).String()
			h := dialH2(t, addr, l.ca)
			if !slices.Contains(h.settings, http2.Setting{ID: http2.SettingMaxFrameSize, Val: 16384}) {
				t.Errorf("server settings %v, want MAX_FRAME_SIZE 16384", h.settings)
			}
			for _, tt := range []struct {
				name string
				send func(h *h2Client)
				want string
			}{
				{"HEADERS of 16384 bytes", func(h *h2Client) { h.bigHeaders(16384) }, "status:200"},
				{"HEADERS of 16385 bytes", func(h *h2Client) { h.bigHeaders(16385) }, "GOAWAY:FRAME_SIZE_ERROR"},
				{"HEADERS of 20000 bytes", func(h *h2Client) { h.bigHeaders(20000) }, "GOAWAY:FRAME_SIZE_ERROR"},
				{"DATA of 16384 bytes", func(h *h2Client) { h.post(16384) }, "status:200"},
				{"DATA of 16385 bytes", func(h *h2Client) { h.post(16385) }, "GOAWAY:FRAME_SIZE_ERROR"},
				{"HEADERS padded past its end", func(h *h2Client) {
					h.fr.WriteRawFrame(http2.FrameHeaders, h2FlagEndHeaders|h2FlagPadded|0x1, 1, append([]byte{200}, h.fields(":method", "GET")...))
				}, "GOAWAY:PROTOCOL_ERROR"},
				{"HEADERS too short for its priority", func(h *h2Client) {
					h.fr.WriteRawFrame(http2.FrameHeaders, h2FlagEndHeaders|h2FlagPriority|0x1, 1, []byte{0, 0, 0})
				}, "GOAWAY:FRAME_SIZE_ERROR"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					h := dialH2(t, addr, l.ca)
					tt.send(h)
					if got := h.outcome(1); !slices.Contains(got, tt.want) {
						t.Errorf("got %v, want %s", got, tt.want)
					}
				})
			}
		})
	}
}

// bigHeaders sends a GET on stream 1 in one HEADERS frame of exactly size
// bytes: a long field, and padding to make up the rest. It is the first
// block on the connection, encoded on its own.
func (h *h2Client) bigHeaders(size int) {
	// X's Huffman code is 8 bits long, so the value is sent as it is.
	for v := size; v > 0; v-- {
		block := headerBlock(":method", "GET", ":scheme", h.scheme, ":authority", "localhost", ":path", "/", "x-fill", strings.Repeat("X", v))
		if pad := size - 1 - len(block); pad > 0 && pad <= 255 { // a PadLength of 0 is no padding
			h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndStream: true, EndHeaders: true, PadLength: uint8(pad)})
			return
		}
	}
}

// post sends a POST on stream 1 with a body of n bytes in one DATA frame.
func (h *h2Client) post(n int) {
	block := h.fields(":method", "POST", ":scheme", h.scheme, ":authority", "localhost", ":path", "/", "content-length", fmt.Sprint(n))
	h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndHeaders: true})
	h.fr.WriteData(1, true, make([]byte, n))
}

// TestHTTP2SettingsInOrder checks that a SETTINGS frame with a setting more
// than once is processed in order (RFC 9113, section 6.5.3), where Go's
// server refuses it: the last value counts, unless an earlier one is
// invalid, which ends the connection with its error.
func TestHTTP2SettingsInOrder(t *testing.T) {
	ca := newTestCA(t)
	tg := resetGateway(t, ca, newBackend(t, nil))
	iws, hts := http2.SettingInitialWindowSize, http2.SettingHeaderTableSize
	for _, l := range h2Listeners(ca) {
		t.Run(l.name, func(t *testing.T) {
			for _, tt := range []struct {
				name     string
				settings []http2.Setting
				want     []string // the first events of the outcome
			}{
				// A window of 1 makes the server send DATA a byte at a time.
				{"window 100 then 1", []http2.Setting{{ID: iws, Val: 100}, {ID: iws, Val: 1}}, []string{"status:200", "data:1"}},
				{"window 1, 100, then 1", []http2.Setting{{ID: iws, Val: 1}, {ID: iws, Val: 100}, {ID: iws, Val: 1}}, []string{"status:200", "data:1"}},
				{"window too large then 1", []http2.Setting{{ID: iws, Val: 1 << 31}, {ID: iws, Val: 1}}, []string{"GOAWAY:FLOW_CONTROL_ERROR"}},
				{"window 1 then too large", []http2.Setting{{ID: iws, Val: 1}, {ID: iws, Val: 1 << 31}}, []string{"GOAWAY:FLOW_CONTROL_ERROR"}},
				{"push off twice, window 1", []http2.Setting{{ID: http2.SettingEnablePush, Val: 0}, {ID: iws, Val: 1}, {ID: http2.SettingEnablePush, Val: 0}}, []string{"status:200", "data:1"}},
				{"push 2 then off", []http2.Setting{{ID: http2.SettingEnablePush, Val: 2}, {ID: http2.SettingEnablePush, Val: 0}}, []string{"GOAWAY:PROTOCOL_ERROR"}},
				{"table 4096 then 0", []http2.Setting{{ID: hts, Val: 4096}, {ID: hts, Val: 0}}, []string{"status:200"}},
				// The server's encoder would have to signal both sizes.
				{"table 0 then 4096 stays refused", []http2.Setting{{ID: hts, Val: 0}, {ID: hts, Val: 4096}}, []string{"GOAWAY:PROTOCOL_ERROR"}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					h := dialH2(t, tg.Addr(l.name).String(), l.ca, tt.settings...)
					h.get(1)
					got := h.outcome(1)
					if len(got) < len(tt.want) || !slices.Equal(got[:len(tt.want)], tt.want) {
						t.Errorf("got %v, want %v first", got, tt.want)
					}
				})
			}
		})
	}
}

// TestHTTP2ConnectionSpecificFields checks that a request with a
// connection-specific header field, or TE other than "trailers", has its
// stream reset with PROTOCOL_ERROR (RFC 9113, section 8.2.2) and never
// reaches the backend, however its header block is encoded and framed,
// while the connection serves the next request.
func TestHTTP2ConnectionSpecificFields(t *testing.T) {
	ca := newTestCA(t)
	be := newBackend(t, nil)
	tg := resetGateway(t, ca, be)
	malformed := [][]string{
		{"connection", "keep-alive"},
		{"connection", "close"},
		{"keep-alive", "timeout=5"},
		{"proxy-connection", "keep-alive"},
		{"transfer-encoding", "chunked"},
		{"transfer-encoding", "identity"},
		{"upgrade", "websocket"},
		{"upgrade", "h2c"},
		{"te", "gzip"},
		{"te", "trailers, deflate"},
		{"te", "Trailers"},
		{"te", "trailers", "te", "trailers"},
		{"te", "", "te", "trailers"},
		// Encoded the second time as a reference to the client's table.
		{"connection", "close"},
		{"x-a", "1", "connection", "close", "x-b", "2"},
	}
	wellFormed := [][]string{
		{"te", "trailers"},
		{"te", ""}, // an empty list
		{"x-connection", "close"},
		{"connections", "1", "tea", "gzip", "upgrade-insecure-requests", "1"},
	}
	for _, l := range h2Listeners(ca) {
		t.Run(l.name, func(t *testing.T) {
			h := dialH2(t, tg.Addr(l.name).String(), l.ca)
			id := uint32(1)
			for _, framing := range []string{"one frame", "padded with priority", "continuations"} {
				for _, tt := range slices.Concat(malformed, wellFormed) {
					hits := be.hits.Load()
					h.request(id, framing, tt...)
					got := h.outcome(id)
					want := "status:200"
					if len(tt) > 0 && !slices.ContainsFunc(wellFormed, func(w []string) bool { return slices.Equal(w, tt) }) {
						want = "RST_STREAM:PROTOCOL_ERROR"
						if n := be.hits.Load() - hits; n != 0 {
							t.Errorf("%s, %q: %d requests reached the backend, want none", framing, tt, n)
						}
					}
					if !slices.Contains(got, want) || want == "status:200" && slices.ContainsFunc(got, func(e string) bool { return strings.HasPrefix(e, "RST") }) {
						t.Errorf("%s, %q: got %v, want %s", framing, tt, got, want)
					}
					id += 2
				}
			}
		})
	}
}

// request sends a GET on stream id with the extra fields, its header block
// framed: in "one frame", "padded with priority", or in "continuations" of
// three bytes each.
func (h *h2Client) request(id uint32, framing string, extra ...string) {
	block := h.fields(append([]string{":method", "GET", ":scheme", h.scheme, ":authority", "localhost", ":path", "/"}, extra...)...)
	switch framing {
	case "one frame":
		h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: true, EndHeaders: true})
	case "padded with priority":
		h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: true, EndHeaders: true,
			PadLength: 7, Priority: http2.PriorityParam{StreamDep: 0, Weight: 15}})
	case "continuations":
		h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block[:3], EndStream: true})
		for b := block[3:]; len(b) > 0; b = b[min(3, len(b)):] {
			h.fr.WriteContinuation(id, len(b) <= 3, b[:min(3, len(b))])
		}
	}
}

// TestH2COnlyListener checks a listener with h2c alone: it serves HTTP/2
// with prior knowledge, and closes a connection that does not open with the
// preface in order (RFC 9113, section 3.4), not with a reset, however much
// the client sent.
func TestH2COnlyListener(t *testing.T) {
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: h2c, address: "127.0.0.1:0", protocols: [http2] } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [ %q ] } ]
`, newBackend(t, nil).addr()))
	c := &http.Client{Transport: &http.Transport{Protocols: protocols("h2c")}}
	resp, body := get(t, c, tg.url("h2c")+"/x")
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Errorf("h2c GET: got %d over %s, want 200 over HTTP/2", resp.StatusCode, resp.Proto)
	}
	if s := decodeSeen(t, body); s.Path != "/x" {
		t.Errorf("backend saw %q, want /x", s.Path)
	}
	for _, send := range []string{
		"INVALID CONNECTION PREFACE\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + strings.Repeat("x", 64<<10),
		"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", tg.Addr("h2c").String())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, send)
		n, err := io.Copy(io.Discard, conn)
		conn.Close()
		if n != 0 || err != nil {
			t.Errorf("%.30q: the server sent %d bytes and closed with %v, want nothing and an orderly close", send, n, err)
		}
	}
}
