package accesslog

import (
	"fmt"
	"sync"
	"time"
)

// linePool holds the buffers lines are formatted into, so that a steady
// stream of requests formats without allocating.
var linePool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// maxPooledLine keeps one huge line from pinning its buffer in the pool.
const maxPooledLine = 16 << 10

// Log formats r and queues the line. It is a no-op for a nil Logger, an
// "off" one, a closed one and a nil record. Formatting happens before the
// lock is taken, so concurrent requests contend only for a copy.
func (l *Logger) Log(r *Record) {
	if l == nil || l.off || r == nil {
		return
	}
	bp := linePool.Get().(*[]byte)
	line := (*bp)[:0]
	if l.format == nil {
		line = AppendJSON(line, r)
	} else {
		line = l.format.Append(line, r)
		if l.newline {
			line = append(line, '\n')
		}
	}
	l.mu.Lock()
	if !l.closed {
		l.queueLocked(line)
	}
	l.mu.Unlock()
	if cap(line) <= maxPooledLine {
		*bp = line
		linePool.Put(bp)
	}
}

// queueLocked adds line to the buffer, writing the buffer first if the line
// does not fit, or writes it at once when unbuffered or larger than the
// buffer.
func (l *Logger) queueLocked(line []byte) {
	if l.buf == nil {
		l.writeLocked(line)
		return
	}
	if len(l.buf)+len(line) > cap(l.buf) {
		l.flushLocked()
	}
	if len(line) > cap(l.buf) {
		l.writeLocked(line)
		return
	}
	l.buf = append(l.buf, line...)
}

func (l *Logger) flushLocked() {
	if len(l.buf) > 0 {
		l.writeLocked(l.buf)
		l.buf = l.buf[:0]
	}
}

// writeLocked writes p with one call. A failed write drops its lines, since
// the request path must not wait on a broken disk; Failures counts them.
func (l *Logger) writeLocked(p []byte) {
	if _, err := l.out.Write(p); err != nil {
		l.failures.Add(1)
	}
}

// Failures returns how many writes have failed since New, for a metric.
func (l *Logger) Failures() int64 {
	if l == nil {
		return 0
	}
	return l.failures.Load()
}

// flushEvery writes the buffer each interval until Close.
func (l *Logger) flushEvery(interval time.Duration) {
	defer close(l.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			l.flushLocked()
			l.mu.Unlock()
		}
	}
}

// Close writes the buffered lines, stops the flushing goroutine and closes
// the file. Later calls to Log are no-ops; later calls to Close return nil.
func (l *Logger) Close() error {
	if l == nil || l.off {
		return nil
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.flushLocked()
	l.mu.Unlock()
	if l.stop != nil {
		close(l.stop)
		<-l.done
	}
	if l.file == nil {
		return nil
	}
	if err := l.file.Close(); err != nil {
		return fmt.Errorf("access log: close: %w", err)
	}
	return nil
}
