package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/portcullis-gw/portcullis/routes/identity"
)

// workloadSource is the stream of X.509 contexts (the SVID, its key and
// the bundles of every trust domain) that the SPIFFE Workload API at one
// socket sends. go-spiffe's client keeps the stream: when it breaks, the
// client says so (OnX509ContextWatchError) and opens a new one after a
// backoff. The source keeps the last context that parsed and tells the
// gateway of each new one on updated, from its watching goroutine, which
// never waits for the gateway: the gateway may close a source while it
// holds its own lock.
type workloadSource struct {
	addr    string
	log     zerolog.Logger
	client  *workloadapi.Client
	cancel  context.CancelFunc
	done    chan struct{} // closed when the watching goroutine has ended
	first   chan struct{} // closed at the first context
	updated chan struct{} // one pending notice of a newer context

	mu      sync.Mutex
	latest  *workloadapi.X509Context
	lastErr error
}

// openWorkloadSource starts watching the Workload API at addr; retry is
// the longest wait between two attempts to reach it.
func openWorkloadSource(addr string, log zerolog.Logger, retry time.Duration) (*workloadSource, error) {
	base := min(250*time.Millisecond, retry)
	client, err := workloadapi.New(context.Background(), workloadapi.WithAddr(addr),
		workloadapi.WithBackoffStrategy(retryStrategy{base: base, max: retry}),
		// gRPC reconnects with a backoff of its own, up to two minutes by
		// default: bounded as go-spiffe's, so that an agent back from a
		// restart is reached again within retry.
		workloadapi.WithDialOptions(grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: base, Multiplier: 2, Jitter: 0.2, MaxDelay: retry},
			MinConnectTimeout: 5 * time.Second,
		})))
	if err != nil {
		return nil, fmt.Errorf("workload API at %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &workloadSource{
		addr: addr, log: log.With().Str("workload_api", addr).Logger(), client: client, cancel: cancel,
		done: make(chan struct{}), first: make(chan struct{}), updated: make(chan struct{}, 1),
	}
	go s.watch(ctx, retry)
	return s, nil
}

// watch runs go-spiffe's watch until the source closes. go-spiffe gives up
// on a stream the API ends with InvalidArgument; the source then starts a
// new watch after retry, so that rotations never stop for good.
func (s *workloadSource) watch(ctx context.Context, retry time.Duration) {
	defer close(s.done)
	for {
		err := s.client.WatchX509Context(ctx, s)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
			s.log.Warn().Err(err).Msg("workload API watch ended; watching again")
		}
	}
}

// OnX509ContextUpdate keeps a context that go-spiffe parsed: every SVID's
// key matches its certificate.
func (s *workloadSource) OnX509ContextUpdate(c *workloadapi.X509Context) {
	s.mu.Lock()
	s.latest, s.lastErr = c, nil
	s.mu.Unlock()
	select {
	case <-s.first:
	default:
		close(s.first)
	}
	select {
	case s.updated <- struct{}{}:
	default: // a notice is pending: the gateway reads the latest context
	}
}

// OnX509ContextWatchError logs what broke. The running identity stays:
// the gateway changes it only on a context that makes a valid identity.
func (s *workloadSource) OnX509ContextWatchError(err error) {
	s.mu.Lock()
	s.lastErr = err
	s.mu.Unlock()
	_, isStatus := status.FromError(err)
	switch {
	case status.Code(err) == codes.Canceled || errors.Is(err, context.Canceled):
		// the source is closing
	case isStatus:
		s.log.Warn().Err(err).Msg("workload API unreachable or its stream broke; the running identity stays, retrying")
	default:
		// go-spiffe refuses a context whose SVID does not parse, or
		// whose key is not its certificate's, and keeps the stream.
		s.log.Warn().Err(err).Msg("workload API sent an SVID that was refused; the running identity stays")
	}
}

// wait returns once the first context is in, or an error that names the
// socket and what went wrong when none came within timeout.
func (s *workloadSource) wait(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-s.first:
		return nil
	case <-t.C:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr == nil {
		return fmt.Errorf("workload API at %s: no SVID within %s", s.addr, timeout)
	}
	return fmt.Errorf("workload API at %s: no SVID within %s: %w", s.addr, timeout, s.lastErr)
}

// identity builds the gateway's identity from the latest context: its
// default SVID (the first) in td, checked against td's bundle.
func (s *workloadSource) identity(td spiffeid.TrustDomain, aliases []spiffeid.TrustDomain) (*identity.Identity, error) {
	s.mu.Lock()
	c := s.latest
	s.mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("workload API at %s: no SVID yet", s.addr)
	}
	id, err := identity.FromWorkloadAPI(c.DefaultSVID(), c.Bundles, td, aliases, time.Now())
	if err != nil {
		return nil, fmt.Errorf("workload API at %s: %w", s.addr, err)
	}
	return id, nil
}

// close ends the watch, waits for its goroutine, and closes the
// connection; no notice follows, and updated is closed.
func (s *workloadSource) close() {
	s.cancel()
	<-s.done
	close(s.updated)
	if err := s.client.Close(); err != nil {
		s.log.Debug().Err(err).Msg("closing the workload API connection")
	}
}

// retryStrategy doubles the wait between attempts from base up to max.
type retryStrategy struct{ base, max time.Duration }

func (r retryStrategy) NewBackoff() workloadapi.Backoff { return &retryBackoff{r: r, next: r.base} }

type retryBackoff struct {
	r    retryStrategy
	next time.Duration
}

func (b *retryBackoff) Next() time.Duration {
	d := b.next
	b.next = min(2*b.next, b.r.max)
	return d
}

func (b *retryBackoff) Reset() { b.next = b.r.base }
