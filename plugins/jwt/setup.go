package jwt

import (
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Document is one RequestAuthentication as the policies loader found it.
type Document struct {
	// Name and Namespace are the document's metadata.name and
	// metadata.namespace.
	Name, Namespace string
	// Selector is spec.selector.matchLabels; nil selects every workload
	// of the namespace (every one of the mesh in the root namespace).
	// When nil, the selector written in Spec, if any, is used.
	Selector map[string]string
	// File is the file the document came from, and Line the line in it on
	// which Spec's first line stands: errors name File and Line plus the
	// line within Spec.
	File string
	Line int
	// Spec is the document's spec as YAML, its lines as they stand in the
	// file.
	Spec []byte
}

// Options are the settings every rule of a Set shares. The zero value
// means the defaults named on each field.
type Options struct {
	// RootNamespace is Istio's mesh root namespace, whose documents apply
	// to every workload; default istio-system.
	RootNamespace string
	// HTTPClient fetches jwksUri keys. Default: a client trusting RootCAs
	// (or the system's roots when nil). Either way redirects are followed
	// only to https (or loopback http) URIs.
	HTTPClient *http.Client
	RootCAs    *x509.CertPool
	// RefreshInterval is how old fetched keys may get before they are
	// fetched again; default 5m, as Envoy caches a remote JWKS.
	RefreshInterval time.Duration
	// MaxStale is how long past RefreshInterval fetched keys still serve
	// while the issuer cannot be reached; default 1h.
	MaxStale time.Duration
	// KidRefreshInterval is the least time between two fetches caused by
	// tokens whose key id the keys lack; default 30s.
	KidRefreshInterval time.Duration
	// RetryInterval is the least time between two fetch attempts while
	// there are no usable keys; default 2s.
	RetryInterval time.Duration
	// FetchTimeout bounds one fetch when a rule sets no timeout; default 5s,
	// Istio's.
	FetchTimeout time.Duration
	// ClockSkew is the leeway on exp and nbf; default 60s, Envoy's.
	ClockSkew time.Duration
	// MaxTokenBytes bounds one token; longer ones fail verification;
	// default 16 KiB.
	MaxTokenBytes int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Log receives fetch failures; default none.
	Log *zerolog.Logger
	// Metrics is the registry that a Plugin's metrics join (see
	// metrics.go); New reads it, and a Set compiled without a Plugin
	// counts into metrics of its own that are never registered.
	Metrics prometheus.Registerer
	// Previous is the Set that the new one replaces on a reload, if any:
	// the new Set starts with the keys it fetched from the same URIs, so
	// that a reload makes no request wait for a fetch.
	Previous *Set

	metrics *metrics // the Plugin's
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.RootNamespace == "" {
		o.RootNamespace = "istio-system"
	}
	def(&o.RefreshInterval, 5*time.Minute)
	def(&o.MaxStale, time.Hour)
	def(&o.KidRefreshInterval, 30*time.Second)
	def(&o.RetryInterval, 2*time.Second)
	def(&o.FetchTimeout, 5*time.Second)
	def(&o.ClockSkew, 60*time.Second)
	if o.MaxTokenBytes <= 0 {
		o.MaxTokenBytes = 16 << 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.metrics == nil {
		o.metrics = newMetrics(nil)
	}
}

// Set is the compiled RequestAuthentications of one load of the policies:
// it builds each workload's handler. Close it once the handlers it built
// are retired, to stop their key fetches.
type Set struct {
	opts    Options
	docs    []compiledDoc
	remotes map[string]*remoteKeys // by URI ("discover <issuer>" for discovery)
	// refs counts the Set's holders: its caller, and each handler built
	// from it. When the last lets go, stop is closed and the key
	// fetches stop.
	refs atomic.Int64
	stop chan struct{}
	once sync.Once
}

type compiledDoc struct {
	name      string
	namespace string
	selector  map[string]string
	targeted  bool // has targetRef(s): applies to no upstream
	rules     []*provider
}

// Compile decodes and validates docs and builds what their handlers share.
// It reports every fault of every document at once, each an *Error with
// the file and line of the field at fault (joined with errors.Join). It
// fetches nothing: keys from a jwksUri are fetched by the first request
// that needs them, and kept fresh from then on.
func Compile(docs []Document, opts Options) (*Set, error) {
	opts.defaults()
	specs := make([]*spec, len(docs))
	var errs []error
	for i := range docs {
		sp, e := decodeSpec(&docs[i])
		specs[i], errs = sp, append(errs, e...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	prev := opts.Previous
	opts.Previous = nil // the new Set must not keep the old one alive
	s := &Set{opts: opts, stop: make(chan struct{}), remotes: map[string]*remoteKeys{}}
	s.refs.Store(1)
	remotes := s.remotes
	client := fetchClient(&s.opts)
	log := zerolog.Nop()
	if opts.Log != nil {
		log = *opts.Log
	}
	for i, sp := range specs {
		d := compiledDoc{name: docs[i].Name, namespace: docs[i].Namespace, selector: docs[i].Selector}
		if d.selector == nil && sp.Selector != nil {
			d.selector = sp.Selector.MatchLabels
		}
		d.targeted = sp.TargetRef != nil || len(sp.TargetRefs) > 0
		for _, r := range sp.JWTRules {
			p := newProvider(r)
			if r.Jwks != "" {
				ks, _, _ := parseJWKS([]byte(r.Jwks)) // validated above
				p.keys = inlineKeys{ks}
			} else {
				timeout := s.opts.FetchTimeout
				if r.Timeout != "" {
					timeout, _ = time.ParseDuration(r.Timeout)
				}
				uri, discover := r.JwksURI, r.JwksURI == ""
				if discover {
					uri = r.Issuer
				}
				id := uri
				if discover {
					id = "discover " + uri
				}
				rk := remotes[id]
				if rk == nil {
					rk = &remoteKeys{uri: uri, discover: discover, timeout: timeout, opts: &s.opts, client: client, log: log, stop: s.stop,
						fetched: s.opts.metrics.fetches.WithLabelValues(uri, "success"), failed: s.opts.metrics.fetches.WithLabelValues(uri, "failed")}
					remotes[id] = rk
					if old := prev.remote(id); old != nil {
						rk.set.Store(old.set.Load())
					}
				}
				p.keys = rk
			}
			d.rules = append(d.rules, p)
		}
		s.docs = append(s.docs, d)
	}
	return s, nil
}

// For returns the handler for a workload of the given namespace and
// labels: the jwtRules of every document in that namespace or the root
// namespace whose selector the labels hold, as Istio selects them. A
// document with targetRef(s) selects no upstream (for Istio such a policy
// applies to gateways and waypoints only). For returns nil when no rule
// applies: the route needs no jwt handler. A handler holds the Set until
// its Close.
func (s *Set) For(namespace string, labels map[string]string) *Handler {
	rules := s.rules(namespace, labels)
	if len(rules) == 0 {
		return nil
	}
	return newHandler(s, rules)
}

// rules returns the rules of the documents that select a workload.
func (s *Set) rules(namespace string, labels map[string]string) []*provider {
	var rules []*provider
	for i := range s.docs {
		d := &s.docs[i]
		if d.targeted || (d.namespace != namespace && d.namespace != s.opts.RootNamespace) {
			continue
		}
		if !selects(d.selector, labels) {
			continue
		}
		rules = append(rules, d.rules...)
	}
	return rules
}

// named returns the document written namespace/name, or nil.
func (s *Set) named(id string) *compiledDoc {
	for i := range s.docs {
		if d := &s.docs[i]; d.namespace+"/"+d.name == id {
			return d
		}
	}
	return nil
}

// remote returns the Set's fetcher of the keys with the given id, or nil.
func (s *Set) remote(id string) *remoteKeys {
	if s == nil {
		return nil
	}
	return s.remotes[id]
}

// selects reports whether labels hold every label of sel.
func selects(sel, labels map[string]string) bool {
	for k, v := range sel {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// Close gives back the caller's share of the Set. Its key fetches stop
// once every handler built from it is closed too; those handlers keep
// verifying with the keys they have.
func (s *Set) Close() error { return s.release() }

func (s *Set) retain() { s.refs.Add(1) }

func (s *Set) release() error {
	if s != nil && s.stop != nil && s.refs.Add(-1) <= 0 {
		s.once.Do(func() { close(s.stop) })
	}
	return nil
}

// provider is one compiled jwtRule.
type provider struct {
	issuer        string
	audiences     []string // sanitised, as audienceAllowed compares them
	keys          keySource
	forward       bool
	payloadHeader string
	claimHeaders  []claimHeader
	split         []string // claims split at spaces for Auth.Claims
	rule          *jwtRule
}

func newProvider(r *jwtRule) *provider {
	p := &provider{
		issuer: r.Issuer, forward: r.ForwardOriginalToken, rule: r,
		payloadHeader: strings.ToLower(r.OutputPayloadToHeader),
		split:         append(append([]string(nil), spaceDelimited...), r.SpaceDelimitedClaims...),
	}
	for _, a := range r.Audiences {
		p.audiences = append(p.audiences, sanitizeAudience(a))
	}
	for _, c := range r.OutputClaimToHeaders {
		p.claimHeaders = append(p.claimHeaders, claimHeader{header: strings.ToLower(c.Header), path: strings.Split(c.Claim, ".")})
	}
	return p
}
