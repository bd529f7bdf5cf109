package gateway

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Client is a raw HTTP/2 client connection, to send what Go's client
// will not. Its encoder keeps one HPACK table for the connection, as a
// client's does.
type h2Client struct {
	t        *testing.T
	c        net.Conn
	fr       *http2.Framer
	enc      *hpack.Encoder
	block    bytes.Buffer
	scheme   string
	settings []http2.Setting // the server's first SETTINGS
}

// dialH2 opens an HTTP/2 connection to addr: over TLS trusting ca when
// there is one, else h2c with prior knowledge. It sends the
// preface and settings, and reads the server's SETTINGS.
func dialH2(t *testing.T, addr string, ca *testCA, settings ...http2.Setting) *h2Client {
	t.Helper()
	var c net.Conn
	var err error
	if ca != nil {
		cfg := ca.clientTLS("localhost")
		cfg.NextProtos = []string{http2.NextProtoTLS}
		c, err = tls.Dial("tcp", addr, cfg)
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	h := &h2Client{t: t, c: c, fr: http2.NewFramer(c, c), scheme: "http"}
	if ca != nil {
		h.scheme = "https"
	}
	h.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	h.enc = hpack.NewEncoder(&h.block)
	c.Write([]byte(http2.ClientPreface))
	h.fr.WriteSettings(settings...)
	f, err := h.fr.ReadFrame()
	sf, ok := f.(*http2.SettingsFrame)
	if err != nil || !ok {
		t.Fatalf("first frame from the server: %v (%v), want SETTINGS", f, err)
	}
	sf.ForeachSetting(func(s http2.Setting) error { h.settings = append(h.settings, s); return nil })
	h.fr.WriteSettingsAck()
	return h
}

// fields is the HPACK block of the name, value pairs in f, with the
// connection's encoder.
func (h *h2Client) fields(f ...string) []byte {
	h.block.Reset()
	for i := 0; i+1 < len(f); i += 2 {
		h.enc.WriteField(hpack.HeaderField{Name: f[i], Value: f[i+1]})
	}
	return bytes.Clone(h.block.Bytes())
}

// get sends a GET on stream id with the extra fields, in one HEADERS frame.
func (h *h2Client) get(id uint32, extra ...string) {
	block := h.fields(append([]string{":method", "GET", ":scheme", h.scheme, ":authority", "localhost", ":path", "/"}, extra...)...)
	h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: true, EndHeaders: true})
}

// outcome reads what the server answers on stream id, after a PING it sends
// now: the server handles frames in order, so an answer to anything sent
// before comes before the PING's ACK. It returns when it has the ACK and the
// stream ended or was reset, or the server sent GOAWAY or closed, each event
// as a word: "status:200", "data:1" (a DATA frame's length), "RST_STREAM:
// PROTOCOL_ERROR", "GOAWAY:FRAME_SIZE_ERROR", "EOF".
func (h *h2Client) outcome(id uint32) []string {
	h.t.Helper()
	h.fr.WritePing(false, [8]byte{'o', 'u', 't', 'c', 'o', 'm', 'e'})
	var events []string
	acked, ended := false, false
	for !acked || !ended {
		f, err := h.fr.ReadFrame()
		if err != nil {
			return append(events, "EOF")
		}
		switch f := f.(type) {
		case *http2.PingFrame:
			acked = acked || f.IsAck()
		case *http2.SettingsFrame:
			if !f.IsAck() {
				h.fr.WriteSettingsAck()
			}
		case *http2.GoAwayFrame:
			return append(events, "GOAWAY:"+f.ErrCode.String())
		case *http2.MetaHeadersFrame:
			if f.StreamID == id {
				events = append(events, "status:"+f.PseudoValue("status"))
				ended = ended || f.StreamEnded()
			}
		case *http2.DataFrame:
			if f.StreamID == id {
				events = append(events, fmt.Sprintf("data:%d", len(f.Data())))
				ended = ended || f.StreamEnded()
				if n := uint32(len(f.Data())); n > 0 {
					h.fr.WriteWindowUpdate(0, n)
					if !f.StreamEnded() {
						h.fr.WriteWindowUpdate(id, n)
					}
				}
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				events = append(events, "RST_STREAM:"+f.ErrCode.String())
				ended = true
			}
		}
	}
	return events
}
