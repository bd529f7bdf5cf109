package waf

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/portcullis-gw/portcullis/plugins"
)

// scope is one load's WAF: the engines of its profiles, each built once
// and shared by the routes that name the profile, and by profiles whose
// directives are the same.
type scope struct {
	p       *Plugin
	section *Section
	sink    *sink // the audit log, or nil

	mu      sync.Mutex
	engines map[string]*engine // by profile name
	byText  map[string]*engine // by the profile's directives
}

var _ plugins.Scope = (*scope)(nil)

// engine returns the profile's engine, building it at its first use.
func (sc *scope) engine(name string) (*engine, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if e := sc.engines[name]; e != nil {
		return e, nil
	}
	prof := sc.section.Profiles[name]
	if prof == nil {
		return nil, fmt.Errorf("no profile %q (defined: %s)", name, strings.Join(slices.Sorted(maps.Keys(sc.section.Profiles)), ", "))
	}
	audit := ""
	if sc.sink != nil {
		audit = sc.sink.name
	}
	chunks, err := directives(prof, string(sc.section.CRSPluginDir), audit)
	if err != nil {
		return nil, profileError(name, err)
	}
	key := joinChunks(chunks)
	if e := sc.byText[key]; e != nil {
		sc.engines[name] = e
		return e, nil
	}
	w, err := compile(chunks, sc.p.errorLog)
	if err != nil {
		return nil, profileError(name, err)
	}
	e := &engine{waf: w}
	e.refs.Store(1) // the scope's own
	m, p, s := sc.p.metrics, sc.p, sc.sink
	if s != nil {
		p.audits.hold(s) // the engine writes to it until it goes
	}
	e.done = func() {
		m.engines.Dec()
		if s != nil {
			p.audits.release(s)
		}
	}
	m.engines.Inc()
	sc.engines[name], sc.byText[key] = e, e
	return e, nil
}

// Build builds a route's handler for the profile it names.
func (sc *scope) Build(cfg any) (plugins.Handler, error) {
	u, ok := cfg.(*Use)
	if !ok || u == nil {
		return nil, fmt.Errorf("config is %T, want *waf.Use", cfg)
	}
	name := string(*u)
	if name == "" {
		name = defaultProfile
	}
	e, err := sc.engine(name)
	if err != nil {
		var fe *plugins.FieldError
		if errors.As(err, &fe) {
			// A fault in the default profile, which the file does not
			// write: it shows at the route that uses it.
			return nil, errors.New(fe.Error())
		}
		return nil, err
	}
	return newHandler(name, sc.section.Profiles[name], e.acquire(), sc.p.metrics), nil
}

// Close drops the scope's hold on its engines and its audit log: the
// handlers keep theirs.
func (sc *scope) Close() error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, e := range sc.byText {
		e.release()
	}
	sc.byText, sc.engines = nil, nil
	if sc.sink != nil {
		sc.p.audits.release(sc.sink)
		sc.sink = nil
	}
	return nil
}

// profileError prefixes an error about one of a profile's fields with the
// profile, as a field of the section.
func profileError(name string, err error) error {
	var fe *fieldErr
	if errors.As(err, &fe) {
		return &plugins.FieldError{Field: "profiles." + name + "." + fe.field, Msg: fe.err.Error()}
	}
	return &plugins.FieldError{Field: "profiles." + name, Msg: err.Error()}
}

// joinChunks is a profile's directives as one text: profiles with the same
// text share one engine.
func joinChunks(chunks []chunk) string {
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(c.text)
		b.WriteByte('\n')
	}
	return b.String()
}
