package waf

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis-gw/portcullis/plugins"
)

// Plugin is the WAF as the binary knows it: what outlives one load of the
// routes file (its metrics, its open audit logs). Its Factory builds each
// load's engines and handlers.
type Plugin struct {
	metrics  *metrics
	audits   audits
	errorLog *errorLog // nil without Options.ErrorLog
}

// Options are what a Plugin needs from the binary.
type Options struct {
	// Metrics is the registry the WAF's metrics join, such as the
	// gateway's; nil keeps them unregistered.
	Metrics prometheus.Registerer
	// ErrorLog, when set, gets one line for every rule that matches and
	// logs, in every engine, in ModSecurity's error-log format (`[client
	// "…"] Coraza: Warning. <msg> [file "…"] [line "…"] [id "…"] …`), which
	// log readers such as the CRS's regression runner understand. The
	// binary leaves it nil: the audit log is the gateway's record of a
	// request.
	ErrorLog io.Writer
}

// New returns a Plugin. Its metrics are registered with opts.Metrics once,
// here, whatever the loads and reloads that follow.
func New(opts Options) *Plugin {
	registerWriter()
	registerOperators()
	p := &Plugin{metrics: newMetrics(opts.Metrics)}
	if opts.ErrorLog != nil {
		p.errorLog = &errorLog{w: opts.ErrorLog}
	}
	return p
}

// errorLog writes matched rules to Options.ErrorLog, a whole line at a
// time whatever the transactions that match at once.
type errorLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *errorLog) write(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, line+"\n") // a lost line is the writer's to report
}

// Factory returns the waf plugin's factory, for the binary's registry: a
// top-level `waf:` section of profiles, and `{ waf: <profile> }` on a
// virtual host or route.
func (p *Plugin) Factory() plugins.Factory {
	return plugins.Factory{
		Name:    Name,
		Config:  func() any { u := Use(defaultProfile); return &u },
		Section: func() any { return newSection() },
		Open:    p.open,
	}
}

// ReopenAuditLogs reopens the audit log files, as log rotators ask with
// SIGUSR1.
func (p *Plugin) ReopenAuditLogs() error { return p.audits.reopen() }

// open validates a section and builds the engines of the profiles it
// writes; the default profile, when the file leaves it out, is built once
// a route uses it.
func (p *Plugin) open(section any) (plugins.Scope, error) {
	s, ok := section.(*Section)
	if !ok || s == nil {
		return nil, fmt.Errorf("section is %T, want *waf.Section", section)
	}
	var c checker
	c.check(s)
	if err := c.result(); err != nil {
		return nil, err
	}
	sc := &scope{p: p, section: s, engines: make(map[string]*engine), byText: make(map[string]*engine)}
	if path := s.AuditLog.Path; path != "" && path != "off" {
		sink, err := p.audits.acquire(path)
		if err != nil {
			return nil, &plugins.FieldError{Field: "audit_log.path", Msg: err.Error()}
		}
		sc.sink = sink
	}
	var errs []error
	for _, name := range s.written() {
		if _, err := sc.engine(name); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		sc.Close()
		return nil, errors.Join(errs...)
	}
	return sc, nil
}
