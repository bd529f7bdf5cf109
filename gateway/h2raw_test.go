package gateway

import (
	"bytes"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Raw sends one HEADERS frame (END_STREAM) with the given fields, in
// order, on a fresh h2c connection, and returns the :status (or "RST:<code>"
// or "GOAWAY:<code>"). It sends what Go's client would refuse to.
func h2Raw(t testing.TB, addr string, fields ...string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return h2RawOn(t, c, fields...)
}

// h2RawOn is h2Raw on c, a connection it closes (over TLS, say).
func h2RawOn(t testing.TB, c net.Conn, fields ...string) string {
	t.Helper()
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte(http2.ClientPreface))
	fr := http2.NewFramer(c, c)
	fr.WriteSettings()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for i := 0; i+1 < len(fields); i += 2 {
		enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return "ERR:" + err.Error()
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			return f.PseudoValue("status")
		case *http2.RSTStreamFrame:
			return "RST:" + f.ErrCode.String()
		case *http2.GoAwayFrame:
			return "GOAWAY:" + f.ErrCode.String()
		}
	}
}
