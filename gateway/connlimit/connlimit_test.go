package connlimit_test

import (
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/connlimit"
)

// server serves a limited listener on loopback: it writes "ok" on every
// connection it accepts and keeps it, so a client learns by reading whether
// it was accepted.
type server struct {
	ln       *connlimit.Listener
	accepted chan net.Conn
	rejected chan string
}

func serve(t *testing.T, opts connlimit.Options) *server {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{accepted: make(chan net.Conn, 100), rejected: make(chan string, 100)}
	opts.OnReject = func(reason string, remote net.Addr) {
		switch remote.(type) {
		case *net.TCPAddr, *net.UDPAddr: // accepted, or admitted (Admit)
		default:
			t.Errorf("got remote %T, want *net.TCPAddr or *net.UDPAddr", remote)
		}
		s.rejected <- reason
	}
	s.ln = connlimit.Listen(inner, opts)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("ok"))
			s.accepted <- c
		}
	}()
	t.Cleanup(func() {
		s.ln.Close()
		<-done
		close(s.accepted)
		for c := range s.accepted {
			c.Close()
		}
	})
	return s
}

// dial connects from the loopback address from (127.0.0.1, 127.0.0.2 …).
// A refused connection may be reset before the dial returns, so the error
// is the caller's to judge.
func dial(t testing.TB, ln net.Listener, from string) (net.Conn, error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// accepted dials from and reads: "ok" means the server accepted the
// connection, a reset or end of file that it refused it. The deadline only
// keeps a broken test from hanging.
func accepted(t *testing.T, ln net.Listener, from string) bool {
	t.Helper()
	c, err := dial(t, ln, from)
	if errors.Is(err, syscall.ECONNRESET) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2)
	_, err = io.ReadFull(c, buf)
	switch {
	case err == nil && string(buf) == "ok":
		return true
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatal("got no answer from the server, want ok or a close")
	case err == nil:
		t.Fatalf("got %q, want ok or a close", buf)
	}
	return false
}

// step is one action of a scenario: a dial from an address, which the
// server accepts (want "") or refuses (want the reason), or, when from is
// empty, closing the server's side of the close-th accepted connection.
type step struct {
	from  string
	want  string
	close int
}

func TestLimits(t *testing.T) {
	const a, b = "127.0.0.1", "127.0.0.2"
	tests := []struct {
		name  string
		opts  connlimit.Options
		steps []step
	}{
		{"listener limit", connlimit.Options{MaxConns: 2}, []step{
			{from: a}, {from: b}, {from: b, want: connlimit.ListenerLimit}, {from: a, want: connlimit.ListenerLimit},
			{close: 0}, {from: b}, {from: a, want: connlimit.ListenerLimit},
		}},
		{"client limit", connlimit.Options{MaxConnsPerIP: 2}, []step{
			{from: a}, {from: a}, {from: a, want: connlimit.ClientLimit}, {from: b}, {from: b},
			{from: b, want: connlimit.ClientLimit}, {close: 1}, {from: a}, {from: a, want: connlimit.ClientLimit},
		}},
		{"listener limit checked first", connlimit.Options{MaxConns: 3, MaxConnsPerIP: 2}, []step{
			{from: a}, {from: a}, {from: b}, {from: a, want: connlimit.ListenerLimit}, {from: b, want: connlimit.ListenerLimit},
			{close: 2}, {from: a, want: connlimit.ClientLimit}, {from: b},
		}},
		{"double close releases once", connlimit.Options{MaxConns: 2}, []step{
			{from: a}, {from: a}, {close: 0}, {close: 0}, {from: a}, {from: a, want: connlimit.ListenerLimit},
		}},
		{"no limits", connlimit.Options{}, []step{
			{from: a}, {from: a}, {from: a}, {from: b}, {from: b}, {from: b}, {close: 0}, {from: a},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serve(t, tt.opts)
			var conns []net.Conn // the server's side, in the order accepted
			for i, st := range tt.steps {
				if st.from == "" {
					conns[st.close].Close()
				} else {
					ok := accepted(t, s.ln, st.from)
					switch {
					case ok && st.want != "":
						t.Fatalf("step %d: got accepted, want refused for %s", i, st.want)
					case !ok && st.want == "":
						t.Fatalf("step %d: got refused, want accepted", i)
					case ok:
						c := <-s.accepted
						t.Cleanup(func() { c.Close() })
						conns = append(conns, c)
					default:
						if got := <-s.rejected; got != st.want {
							t.Fatalf("step %d: got reason %q, want %q", i, got, st.want)
						}
					}
				}
				if got, want := s.ln.Conns(), liveConns(conns, tt.steps[:i+1]); got != want {
					t.Fatalf("step %d: got %d connections open, want %d", i, got, want)
				}
			}
		})
	}
}

// liveConns counts the accepted connections that the steps done so far did
// not close.
func liveConns(conns []net.Conn, done []step) int {
	closed := map[int]bool{}
	for _, st := range done {
		if st.from == "" {
			closed[st.close] = true
		}
	}
	return len(conns) - len(closed)
}

// TestConnMethods runs a small tunnel over an accepted connection: the
// copy in each direction goes through the wrapper's WriteTo and ReadFrom,
// and each side's half-close reaches the other.
func TestConnMethods(t *testing.T) {
	s := serve(t, connlimit.Options{MaxConns: 1})
	client, err := dial(t, s.ln, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	c := <-s.accepted
	t.Cleanup(func() { c.Close() })
	if inner := c.(interface{ NetConn() net.Conn }).NetConn(); reflect.TypeOf(inner) != reflect.TypeFor[*net.TCPConn]() {
		t.Errorf("got NetConn %T, want *net.TCPConn", inner)
	}

	io.ReadFull(client, make([]byte, 2)) // the server's "ok"
	client.Write([]byte("hello"))
	client.(*net.TCPConn).CloseWrite()
	var got strings.Builder
	if _, err := io.Copy(&got, c); err != nil || got.String() != "hello" {
		t.Errorf("got %q, %v from the client, want %q", got.String(), err, "hello")
	}
	if _, err := io.Copy(c, strings.NewReader("world")); err != nil {
		t.Fatalf("got error %v copying to the client, want nil", err)
	}
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatalf("got CloseWrite error %v, want nil", err)
	}
	back, err := io.ReadAll(client)
	if err != nil || string(back) != "world" {
		t.Errorf("got %q, %v at the client, want %q and end of file", back, err, "world")
	}
}
