package gateway

import (
	"log"
	"strings"

	"github.com/rs/zerolog"
)

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
