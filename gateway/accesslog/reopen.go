package accesslog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"github.com/rs/zerolog"
)

// Reopen writes the buffered lines to the current file, then opens the path
// anew and writes there from now on. Log rotation renames the file and asks
// for a reopen; no line is lost, because lines logged before the reopen go
// to the renamed file. For stdout, stderr and "off" it does nothing. When the
// path cannot be opened the Logger keeps the old file and returns the error.
func (l *Logger) Reopen() error {
	if l == nil || l.path == "" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("access log: reopen after close")
	}
	l.flushLocked()
	f, err := openLog(l.path)
	if err != nil {
		return fmt.Errorf("access log: reopen: %w", err)
	}
	old := l.file
	l.file, l.out = f, f
	if err := old.Close(); err != nil {
		return fmt.Errorf("access log: reopen: close old file: %w", err)
	}
	return nil
}

// ReopenOnSignal calls Reopen each time one of sig arrives (SIGUSR1 when none
// is given, where the platform has it) until ctx is done; the gateway runs it
// in its own goroutine. A failed reopen is reported on stderr, and the
// Logger goes on writing to the old file. It returns at once for a Logger
// that writes no file, leaving the signal's default action alone.
func (l *Logger) ReopenOnSignal(ctx context.Context, sig ...os.Signal) {
	if len(sig) == 0 {
		sig = defaultReopenSignals
	}
	if l == nil || l.path == "" || len(sig) == 0 {
		return
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sig...)
	defer signal.Stop(ch)
	errs := zerolog.New(os.Stderr).With().Timestamp().Logger()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			if err := l.Reopen(); err != nil {
				errs.Error().Err(err).Str("path", l.path).Msg("access log reopen failed")
			}
		}
	}
}
