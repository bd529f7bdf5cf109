package gateway

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// headerBlock is an HPACK block of the name, value pairs in f.
func headerBlock(f ...string) []byte {
	var b bytes.Buffer
	e := hpack.NewEncoder(&b)
	for i := 0; i+1 < len(f); i += 2 {
		e.WriteField(hpack.HeaderField{Name: f[i], Value: f[i+1]})
	}
	return b.Bytes()
}

// TestHTTP2ServerResetsCount checks the rapid-reset guard against resets
// the client makes the server send ("MadeYouReset"): streams that break a
// rule after their request started (more DATA than content-length, a
// WINDOW_UPDATE of 0) are reset by the server itself, and count as
// premature resets as a client's own do.
func TestHTTP2ServerResetsCount(t *testing.T) {
	be := newBackend(t, nil)
	tg := resetGateway(t, newTestCA(t), be)
	for _, variant := range []string{"data past content-length", "window update of 0"} {
		t.Run(variant, func(t *testing.T) {
			hits0 := be.hits.Load()
			c, err := net.Dial("tcp", tg.Addr("h2c").String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			go func() {
				block := headerBlock(":method", "POST", ":scheme", "http", ":authority", "x", ":path", "/", "content-length", "1")
				var w bytes.Buffer
				fr := http2.NewFramer(&w, nil)
				io.WriteString(&w, http2.ClientPreface)
				fr.WriteSettings()
				c.SetWriteDeadline(time.Now().Add(30 * time.Second))
				for i := range 10000 {
					id := uint32(2*i + 1)
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true})
					if variant == "data past content-length" {
						fr.WriteData(id, true, []byte("xx"))
					} else {
						fr.WriteRawFrame(http2.FrameWindowUpdate, 0, id, []byte{0, 0, 0, 0})
					}
					if w.Len() > 16<<10 {
						if _, err := c.Write(w.Bytes()); err != nil {
							return
						}
						w.Reset()
					}
				}
				c.Write(w.Bytes())
			}()
			code, err := readUntilGoAway(c)
			if err != nil || code != http2.ErrCodeEnhanceYourCalm {
				t.Fatalf("got GOAWAY %v (%v), want ENHANCE_YOUR_CALM", code, err)
			}
			waitUntil(t, "no request in flight", func() bool { return upstreamActive(t, tg, "app") == 0 })
			if hits := be.hits.Load() - hits0; hits > resetLimit {
				t.Errorf("%d requests reached the backend, want at most %d", hits, resetLimit)
			}
		})
	}
}
