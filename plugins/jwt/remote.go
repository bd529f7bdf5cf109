package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// maxJWKSBytes bounds a fetched JWKS; real ones are a few KiB.
const maxJWKSBytes = 1 << 20

// keySource gives the keys of one rule: an inline JWKS, or one fetched from
// jwksUri and kept fresh.
type keySource interface {
	// keys returns the set to check a token with kid against, or the
	// status to fail the token with when there is none.
	keys(ctx context.Context, kid string) (*keySet, string)
}

// inlineKeys is a rule's inline jwks.
type inlineKeys struct{ set *keySet }

func (k inlineKeys) keys(context.Context, string) (*keySet, string) { return k.set, "" }

// remoteKeys is a JWKS fetched from a URI, shared by every rule of a Set
// that names the URI. Reads take the current set without a lock; fetches
// happen one at a time, off the request path unless a request has no
// usable keys (or a key id the set lacks) and must wait for them.
//
// The set is refreshed when it is older than Options.RefreshInterval, in
// the background while the old set serves. When fetches fail it keeps
// serving the old set until it is Options.MaxStale past its refresh, and
// logs each failure; after that tokens fail with Envoy's "Jwks remote
// fetch is failed" until a fetch succeeds. A token whose kid the set lacks
// triggers a fetch at most once per Options.KidRefreshInterval.
type remoteKeys struct {
	// uri is the JWKS's URI, or, with discover, the issuer whose OpenID
	// configuration names it.
	uri      string
	discover bool
	timeout  time.Duration
	opts     *Options
	client   *http.Client
	log      zerolog.Logger
	// stop is closed with the Set, cancelling a fetch under way.
	stop <-chan struct{}
	// fetched and failed count the fetches.
	fetched, failed prometheus.Counter

	set atomic.Pointer[keySet]

	mu       sync.Mutex
	inflight chan struct{} // closed when the fetch under way ends
	lastTry  time.Time
	lastKid  time.Time
	failing  bool
}

func (r *remoteKeys) keys(ctx context.Context, kid string) (*keySet, string) {
	now := r.opts.Now()
	if ks := r.set.Load(); r.usable(ks, now) {
		if now.Sub(ks.at) >= r.opts.RefreshInterval {
			r.start(now, false) // refresh in the background
		}
		if kid == "" || ks.hasKid(kid) || !r.kidFetchAllowed(now) {
			return ks, ""
		}
		// A key id the set lacks: the issuer may have rotated its keys.
		done, started := r.start(now, true)
		wait(ctx, done)
		if ks = r.set.Load(); !started && !ks.hasKid(kid) {
			// The fetch joined may have begun before the rotation.
			done, _ = r.start(now, true)
			wait(ctx, done)
			ks = r.set.Load()
		}
		return ks, ""
	}
	done, _ := r.start(now, false)
	wait(ctx, done)
	if ks := r.set.Load(); r.usable(ks, r.opts.Now()) {
		return ks, ""
	}
	return nil, statusFetchFail
}

// usable reports whether ks may still serve: fetched less than the refresh
// interval and the stale bound ago.
func (r *remoteKeys) usable(ks *keySet, now time.Time) bool {
	return ks != nil && now.Sub(ks.at) < r.opts.RefreshInterval+r.opts.MaxStale
}

// wait waits for done, when not nil, or for ctx to end.
func wait(ctx context.Context, done chan struct{}) {
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// kidFetchAllowed reports whether a fetch for an unknown key id may start,
// and if so counts it.
func (r *remoteKeys) kidFetchAllowed(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.lastKid.IsZero() && now.Sub(r.lastKid) < r.opts.KidRefreshInterval {
		return false
	}
	r.lastKid = now
	return true
}

// start begins a fetch unless one is under way or the last began less than
// Options.RetryInterval ago (force skips that wait, for an unknown kid). It
// returns a channel closed when the current fetch ends, or nil when none
// runs, and whether it began that fetch.
func (r *remoteKeys) start(now time.Time, force bool) (chan struct{}, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight != nil {
		return r.inflight, false
	}
	if !force && !r.lastTry.IsZero() && now.Sub(r.lastTry) < r.opts.RetryInterval {
		return nil, false
	}
	select {
	case <-r.stop:
		return nil, false
	default:
	}
	r.lastTry = now
	done := make(chan struct{})
	r.inflight = done
	go r.fetch(done)
	return done, true
}

func (r *remoteKeys) fetch(done chan struct{}) {
	ks, err := r.get()
	if err == nil {
		r.set.Store(ks) // before the fetch is seen to end
		r.fetched.Inc()
	} else {
		r.failed.Inc()
	}
	r.mu.Lock()
	wasFailing := r.failing
	r.failing = err != nil
	r.inflight = nil
	r.mu.Unlock()
	close(done)
	switch {
	case err != nil:
		ev := r.log.Warn().Str("jwks_uri", r.uri).Err(err)
		if old := r.set.Load(); old != nil {
			ev = ev.Dur("serving_keys_fetched_ago", r.opts.Now().Sub(old.at))
		}
		ev.Msg("jwt: fetching the JWKS failed")
	case wasFailing:
		r.log.Info().Str("jwks_uri", r.uri).Msg("jwt: fetching the JWKS works again")
	}
}

// get fetches and parses the JWKS once, first looking its URI up in the
// issuer's OpenID configuration when the rule names no jwksUri, as istiod
// does.
func (r *remoteKeys) get() (*keySet, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	go func() {
		select {
		case <-r.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	uri := r.uri
	if r.discover {
		body, err := r.download(ctx, strings.TrimSuffix(r.uri, "/")+"/.well-known/openid-configuration")
		if err != nil {
			return nil, fmt.Errorf("openid discovery: %w", err)
		}
		var conf struct {
			JwksURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(body, &conf); err != nil || conf.JwksURI == "" {
			return nil, errors.New("openid discovery: no jwks_uri in the issuer's configuration")
		}
		if err := checkJwksURI(conf.JwksURI); err != nil {
			return nil, fmt.Errorf("openid discovery: %w", err)
		}
		uri = conf.JwksURI
	}
	body, err := r.download(ctx, uri)
	if err != nil {
		return nil, err
	}
	ks, skipped, err := parseJWKS(body)
	if err != nil {
		return nil, err
	}
	if len(skipped) > 0 {
		// Issuers publish keys for others too; those left out are told,
		// and the rest serve.
		r.log.Warn().Str("jwks_uri", r.uri).Str("keys_left_out", oneLine(skipped)).Msg("jwt: the JWKS has keys the gateway does not use")
	}
	ks.at = r.opts.Now()
	return ks, nil
}

// download GETs a JSON document of at most maxJWKSBytes.
func (r *remoteKeys) download(ctx context.Context, uri string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %s", uri, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("GET %s: larger than 1 MiB", uri)
	}
	return body, nil
}

// fetchClient is the client for jwksUri fetches: Options.HTTPClient's
// transport (or a default one trusting Options.RootCAs), following
// redirects only to URIs that checkJwksURI accepts, so a redirect cannot
// downgrade a fetch to plain http.
func fetchClient(o *Options) *http.Client {
	c := &http.Client{}
	if o.HTTPClient != nil {
		*c = *o.HTTPClient
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if o.RootCAs != nil {
			tr.TLSClientConfig.RootCAs = o.RootCAs
		}
		c.Transport = tr
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return checkJwksURI(req.URL.String())
	}
	return c
}
