package gateway

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestResetGuardCut sends a rapid reset through a real loopback connection
// in small writes and reads it through a resetGuard in small reads, so that
// the frame that crosses the limit straddles reads: the reader must get
// every byte up to the end of that RST_STREAM frame, not one more, and then
// a connection error ENHANCE_YOUR_CALM.
func TestResetGuardCut(t *testing.T) {
	var attack bytes.Buffer
	attack.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&attack, nil)
	fr.WriteSettings()
	var cut int
	for i := 0; i < prematureResetMinStreams+50; i++ {
		id := uint32(2*i + 1)
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: []byte{0x82}, EndStream: true, EndHeaders: true})
		fr.WriteRSTStream(id, http2.ErrCodeCancel)
		if i == prematureResetMinStreams-1 {
			cut = attack.Len()
		}
	}
	for _, size := range []int{1, 5, 13, 4096} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return
			}
			defer c.Close()
			for b := attack.Bytes(); len(b) > 0; b = b[min(7, len(b)):] {
				if _, err := c.Write(b[:min(7, len(b))]); err != nil {
					return
				}
			}
		}()
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		calmed := 0
		g := newResetGuard(c, false, func(streams, premature int) { calmed++ })
		var got bytes.Buffer
		buf := make([]byte, size)
		for {
			n, err := g.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				if !errors.Is(err, http2.ConnectionError(http2.ErrCodeEnhanceYourCalm)) {
					t.Errorf("reads of %d: ended with %v, want ENHANCE_YOUR_CALM", size, err)
				}
				break
			}
		}
		c.Close()
		if got.Len() != cut || !bytes.Equal(got.Bytes(), attack.Bytes()[:cut]) {
			t.Errorf("reads of %d: the server got %d bytes, want the %d up to the end of RST_STREAM %d", size, got.Len(), cut, 2*prematureResetMinStreams-1)
		}
		if calmed != 1 {
			t.Errorf("reads of %d: onCalm called %d times, want once", size, calmed)
		}
		if _, err := g.Read(buf); !errors.Is(err, http2.ConnectionError(http2.ErrCodeEnhanceYourCalm)) {
			t.Errorf("reads of %d: a read after the limit: got %v, want ENHANCE_YOUR_CALM", size, err)
		}
	}
}
