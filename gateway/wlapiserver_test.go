package gateway

import (
	"crypto/x509"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// wlapiServer is a SPIFFE Workload API on a unix socket, as a SPIRE agent
// serves it: FetchX509SVID streams the X.509 context it was last given,
// and each push reaches every open stream. As the Workload API standard
// requires, a call without the workload.spiffe.io: true metadata is
// refused with InvalidArgument.
type wlapiServer struct {
	workload.UnimplementedSpiffeWorkloadAPIServer
	path string
	// streams counts the FetchX509SVID streams ever opened, open those
	// open now.
	streams, open atomic.Int64
	// refuse is how many calls still to refuse with InvalidArgument, on
	// which go-spiffe's client gives up its watch.
	refuse atomic.Int64

	mu      sync.Mutex
	resp    *workload.X509SVIDResponse
	changed chan struct{} // closed and replaced at each push
	srv     *grpc.Server
}

// newWLAPIServer serves on a socket in a new temporary directory until
// the test ends.
func newWLAPIServer(t *testing.T) *wlapiServer {
	t.Helper()
	s := &wlapiServer{path: filepath.Join(t.TempDir(), "agent.sock"), changed: make(chan struct{})}
	s.start(t)
	t.Cleanup(s.stop)
	return s
}

// addr is the socket as the routes file names it.
func (s *wlapiServer) addr() string { return "unix://" + s.path }

func (s *wlapiServer) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("unix", s.path)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	workload.RegisterSpiffeWorkloadAPIServer(srv, s)
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

// stop ends every stream and closes the socket, as an agent that exits.
func (s *wlapiServer) stop() {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	srv.Stop()
}

// push sends resp on every open stream, and to each one opened later.
func (s *wlapiServer) push(resp *workload.X509SVIDResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resp = resp
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *wlapiServer) FetchX509SVID(_ *workload.X509SVIDRequest, stream grpc.ServerStreamingServer[workload.X509SVIDResponse]) error {
	if md, _ := metadata.FromIncomingContext(stream.Context()); len(md.Get("workload.spiffe.io")) != 1 || md.Get("workload.spiffe.io")[0] != "true" {
		return status.Error(codes.InvalidArgument, "security header missing from request")
	}
	if s.refuse.Add(-1) >= 0 {
		return status.Error(codes.InvalidArgument, "refused by the test")
	}
	s.streams.Add(1)
	s.open.Add(1)
	defer s.open.Add(-1)
	for {
		s.mu.Lock()
		resp, changed := s.resp, s.changed
		s.mu.Unlock()
		if resp != nil {
			if err := stream.Send(resp); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return nil
		}
	}
}

// x509Context is what the Workload API sends a workload whose SVID is
// svid: its chain, its key (PKCS #8 DER), the bundle of its trust domain
// (the roots of cas), and the federated bundles.
func x509Context(t *testing.T, svid *devca.SVID, cas []*devca.CA, federated ...*devca.CA) *workload.X509SVIDResponse {
	t.Helper()
	key, err := x509.MarshalPKCS8PrivateKey(svid.Key)
	if err != nil {
		t.Fatal(err)
	}
	m := &workload.X509SVID{SpiffeId: svid.ID.String(), X509SvidKey: key, Bundle: rootsDER(cas...)}
	for _, c := range svid.Certificates {
		m.X509Svid = append(m.X509Svid, c.Raw...)
	}
	resp := &workload.X509SVIDResponse{Svids: []*workload.X509SVID{m}, FederatedBundles: map[string][]byte{}}
	for _, ca := range federated {
		resp.FederatedBundles[ca.TrustDomain.IDString()] = rootsDER(ca)
	}
	return resp
}

func rootsDER(cas ...*devca.CA) []byte {
	var out []byte
	for _, ca := range cas {
		out = append(out, ca.Root().Raw...)
	}
	return out
}
