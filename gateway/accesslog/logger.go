package accesslog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Logger.
type Options struct {
	// Format is a preset, "envoy", "istio" or "istio-legacy", or "json";
	// empty means "istio".
	Format string
	// Text is a custom Envoy format string; it replaces the preset and
	// cannot be combined with "json". A line that lacks a final newline
	// gets one, so lines never run together.
	Text string
	// Path is "stdout" (or empty), "stderr", "off", or a file that is
	// created or appended to.
	Path string
	// FlushInterval bounds how long a line waits in memory: 0 means 100ms,
	// a negative value writes every line at once with its own write call.
	FlushInterval time.Duration
}

const (
	defaultFlushInterval = 100 * time.Millisecond
	// bufferSize is the most that waits in memory; a full buffer is written
	// at once, so a burst costs one write per this many bytes.
	bufferSize = 64 << 10
)

// Logger writes access-log lines. Log is safe for concurrent use, and each
// line reaches the output whole, in one write call. Lines wait in a buffer
// for at most the flush interval, so the request path pays a copy rather
// than a system call; Close writes what is left.
type Logger struct {
	format   *Format // nil writes JSON
	newline  bool    // add '\n' after each line (a Text without one)
	off      bool
	path     string // the file's path; "" for stdout and stderr
	interval time.Duration

	mu     sync.Mutex
	out    io.Writer
	file   *os.File // owned and closed by the Logger; nil for stdout/stderr
	buf    []byte
	closed bool

	failures atomic.Int64
	stop     chan struct{}
	done     chan struct{}
}

// New validates cfg, opens the output and, when lines are buffered, starts
// the goroutine that flushes them.
func New(cfg Options) (*Logger, error) {
	l := &Logger{interval: cfg.FlushInterval}
	if err := l.setFormat(cfg.Format, cfg.Text); err != nil {
		return nil, err
	}
	if l.interval == 0 {
		l.interval = defaultFlushInterval
	}
	switch cfg.Path {
	case "off":
		l.off = true
		return l, nil
	case "", "stdout":
		l.out = os.Stdout
	case "stderr":
		l.out = os.Stderr
	default:
		f, err := openLog(cfg.Path)
		if err != nil {
			return nil, fmt.Errorf("access log: %w", err)
		}
		l.path, l.file, l.out = cfg.Path, f, f
	}
	if l.interval > 0 {
		l.buf = make([]byte, 0, bufferSize)
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		go l.flushEvery(l.interval)
	}
	return l, nil
}

func (l *Logger) setFormat(name, text string) error {
	switch {
	case name == "json" && text != "":
		return errors.New("access log: a text format cannot be combined with format json")
	case name == "json":
		return nil
	case text == "":
		if name == "" {
			name = "istio"
		}
		var ok bool
		if text, ok = Preset(name); !ok {
			return fmt.Errorf("access log: unknown format %q, want envoy, istio, istio-legacy or json", name)
		}
	}
	f, err := Compile(text)
	if err != nil {
		return fmt.Errorf("access log: format: %w", err)
	}
	l.format = f
	l.newline = text == "" || text[len(text)-1] != '\n'
	return nil
}

func openLog(path string) (*os.File, error) {
	// O_APPEND keeps lines whole even when another process (or a second
	// Logger) appends to the same file.
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
}
