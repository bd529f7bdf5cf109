package gateway

import (
	"log"
	"strings"
	"sync"

	"github.com/rs/zerolog"
)

// bytePool lends fixed-size byte slices.
type bytePool struct {
	size int
	p    sync.Pool
}

func newBytePool(size int) *bytePool { return &bytePool{size: size} }

func (b *bytePool) get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, b.size)
}

func (b *bytePool) put(s []byte) {
	if cap(s) != b.size {
		return
	}
	s = s[:b.size]
	b.p.Put(&s)
}

// newStdLog adapts the gateway's logger for the standard library's servers
// and proxy, which log through *log.Logger.
func newStdLog(l zerolog.Logger) *log.Logger {
	return log.New(stdLogWriter{l}, "", 0)
}

type stdLogWriter struct{ l zerolog.Logger }

func (w stdLogWriter) Write(p []byte) (int, error) {
	w.l.Debug().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
