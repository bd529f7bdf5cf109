package accesslog

import (
	"errors"
	"fmt"
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
