package jwt

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/portcullis-gw/portcullis/plugins"
)

// Name is the plugin's key in the routes file.
const Name = "jwt"

// Plugin is jwt as the binary knows it: what outlives one load of the
// routes file. Its Factory builds each load's Set from the
// RequestAuthentication documents of the files the routes file's
// `policies:` names, and each route's handler from the Set.
type Plugin struct {
	opts Options // with the metrics, made once
	mu   sync.Mutex
	last *Set // the last Set built, whose fetched keys the next starts with
}

// New returns a Plugin whose Sets use opts; the routes file's mesh block
// sets RootNamespace, and its jwt block what it names. Its metrics join
// opts.Metrics (nil keeps them unregistered).
func New(opts Options) *Plugin {
	opts.metrics = newMetrics(opts.Metrics)
	return &Plugin{opts: opts}
}

// Config is a route's (or virtual host's) `jwt:` entry: RequestAuthentication
// documents it names on top of those that select its upstream.
type Config struct {
	// Policies are namespace/name of loaded RequestAuthentication
	// documents.
	Policies []string `yaml:"policies"`
}

// Factory returns the jwt plugin's factory, for the binary's registry.
func (p *Plugin) Factory() plugins.Factory {
	return plugins.Factory{
		Name:    Name,
		Config:  func() any { return new(Config) },
		Section: func() any { return new(Section) },
		Open:    p.open,
	}
}

// open reads the RequestAuthentication documents of the policy files and
// compiles them. The files' YAML, kinds and metadata are the authz
// plugin's to report, which reads the same files: only faults of the
// documents' jwtRules are reported here, so that none is reported twice.
func (p *Plugin) open(section any) (plugins.Scope, error) {
	sec, ok := section.(*Section)
	if !ok || sec == nil {
		return nil, fmt.Errorf("section is %T, want *jwt.Section", section)
	}
	var docs []Document
	for _, f := range sec.policies.Files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // reported by the authz plugin
		}
		ds, _ := Read(f, data) // the documents that could be read; faults are authz's
		docs = append(docs, ds...)
	}
	opts := p.opts
	opts.RootNamespace = sec.policies.RootNamespace
	if err := sec.JWKSFetch.apply(&opts); err != nil {
		return nil, err
	}
	p.mu.Lock()
	opts.Previous = p.last
	p.mu.Unlock()
	set, err := Compile(docs, opts)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.last = set
	p.mu.Unlock()
	return &Scope{set: set}, nil
}

// Scope is one load's RequestAuthentications: the routes of that load are
// checked by them.
type Scope struct {
	set *Set
}

// Build builds the handler of an entry on a route without an upstream.
func (s *Scope) Build(cfg any) (plugins.Handler, error) {
	return s.Guard(plugins.Workload{}, cfg)
}

// Guard builds the handler of a route that forwards to w: the rules of the
// documents that select w and of those cfg names. With no rule and no
// entry, the route needs no handler and gets none.
func (s *Scope) Guard(w plugins.Workload, cfg any) (plugins.Handler, error) {
	var names []string
	if cfg != nil {
		c, ok := cfg.(*Config)
		if !ok {
			return nil, fmt.Errorf("config is %T, want *jwt.Config", cfg)
		}
		names = c.Policies
	}
	h, err := s.set.guard(w.Namespace, w.Labels, names)
	if err != nil {
		return nil, &plugins.FieldError{Field: "policies", Msg: err.Error()}
	}
	if h == nil {
		if cfg == nil {
			return nil, nil // an untyped nil: no handler
		}
		h = newHandler(s.set, nil)
	}
	return h, nil
}

// Close gives back the Set's share that no handler took: once the last
// handler built from it is closed too, its key fetches stop.
func (s *Scope) Close() error { return s.set.release() }

// guard is For with the documents names adds, written namespace/name.
func (s *Set) guard(namespace string, labels map[string]string, names []string) (*Handler, error) {
	rules := s.rules(namespace, labels)
	var errs []error
	for _, n := range names {
		d := s.named(n)
		if d == nil {
			errs = append(errs, fmt.Errorf("no RequestAuthentication %q is loaded (names are namespace/name)", n))
			continue
		}
		for _, r := range d.rules {
			if !containsRule(rules, r) {
				rules = append(rules, r)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(rules) == 0 {
		return nil, nil
	}
	return newHandler(s, rules), nil
}

func containsRule(rules []*provider, r *provider) bool {
	for _, x := range rules {
		if x == r {
			return true
		}
	}
	return false
}
