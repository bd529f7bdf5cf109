package waf

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// auditWriterName is the audit log type (SecAuditLogType) under which the
// gateway's writer is registered with Coraza.
const auditWriterName = "portcullis"

// registerWriter registers the gateway's audit log writer with Coraza once
// per process. Coraza's registry is a plain map, so this happens when the
// first Plugin is made, before any engine of the gateway's is built.
func registerWriter() {
	writerOnce.Do(func() {
		plugins.RegisterAuditLogWriter(auditWriterName, func() plugintypes.AuditLogWriter { return new(auditWriter) })
	})
}

var (
	writerOnce sync.Once
	// sinks maps a sink's name, which a profile's SecAuditLog gives, to
	// the sink. Coraza makes its audit log writers from a type name alone,
	// with no way to hand one an object, so each writer looks up its sink
	// by the name it is configured with.
	sinks sync.Map // string → *sink
	// sinkSeq makes sink names unique in the process.
	sinkSeq sync.Mutex
	sinkN   int
)

// sink is one audit log destination: stdout, stderr or a file, shared by
// every engine whose profile logs there, and reopened on SIGUSR1.
type sink struct {
	name, path string
	refs       int // guarded by the owning audits' mutex
	mu         sync.Mutex
	w          io.Writer
	f          *os.File // nil for stdout and stderr
}

func (s *sink) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// reopen opens the file again under its name, as log rotators ask after
// they moved it.
func (s *sink) reopen() error {
	if s.f == nil {
		return nil
	}
	f, err := openLog(s.path)
	if err != nil {
		return err
	}
	s.mu.Lock()
	old := s.f
	s.f, s.w = f, f
	s.mu.Unlock()
	return old.Close()
}

func openLog(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
}

// audits are the open sinks of one Plugin, by path.
type audits struct {
	mu     sync.Mutex
	byPath map[string]*sink
}

// acquire returns the sink for path, opening it if none is open, with a
// reference held for the caller.
func (a *audits) acquire(path string) (*sink, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := a.byPath[path]; s != nil {
		s.refs++
		return s, nil
	}
	s := &sink{path: path}
	switch path {
	case "stdout":
		s.w = os.Stdout
	case "stderr":
		s.w = os.Stderr
	default:
		f, err := openLog(path)
		if err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		s.f, s.w = f, f
	}
	sinkSeq.Lock()
	sinkN++
	s.name = fmt.Sprintf("portcullis-audit-%d", sinkN)
	sinkSeq.Unlock()
	s.refs = 1
	if a.byPath == nil {
		a.byPath = make(map[string]*sink)
	}
	a.byPath[path] = s
	sinks.Store(s.name, s)
	return s, nil
}

// hold takes one more reference to an open sink.
func (a *audits) hold(s *sink) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s.refs++
}

// release drops a reference; the last one closes the sink.
func (a *audits) release(s *sink) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.refs--; s.refs > 0 {
		return
	}
	delete(a.byPath, s.path)
	sinks.Delete(s.name)
	if s.f != nil {
		s.mu.Lock()
		s.f.Close()
		s.mu.Unlock()
	}
}

// reopen reopens every open file.
func (a *audits) reopen() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var first error
	for _, s := range a.byPath {
		if err := s.reopen(); err != nil && first == nil {
			first = fmt.Errorf("audit log %s: %w", s.path, err)
		}
	}
	return first
}

// auditWriter is the writer Coraza makes for a profile with an audit log:
// it formats each logged transaction (as JSON) and writes it, one line, to
// the sink its configuration names.
type auditWriter struct {
	s      *sink
	format plugintypes.AuditLogFormatter
}

func (w *auditWriter) Init(c plugintypes.AuditLogConfig) error {
	s, ok := sinks.Load(c.Target)
	if !ok {
		return fmt.Errorf("no audit log sink %q", c.Target)
	}
	w.s, w.format = s.(*sink), c.Formatter
	return nil
}

func (w *auditWriter) Write(al plugintypes.AuditLog) error {
	b, err := w.format.Format(al)
	if err != nil || len(b) == 0 {
		return err
	}
	_, err = w.s.Write(append(b, '\n'))
	return err
}

func (w *auditWriter) Close() error { return nil }
