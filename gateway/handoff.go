package gateway

import (
	"errors"
	"net"
	"sync"
	"time"
)

// socket is a bound TCP socket whose connections are handed to whichever
// server currently serves it. A reload that changes a listener's settings
// builds a new server on the same socket, so the port never closes and no
// connection attempt is refused while the old server drains.
type socket struct {
	ln    net.Listener
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	// onError hears of accept errors the socket waits out.
	onError func(err error, delay time.Duration)
}

func newSocket(ln net.Listener, onError func(error, time.Duration)) *socket {
	s := &socket{ln: ln, conns: make(chan net.Conn), done: make(chan struct{}), onError: onError}
	go s.accept()
	return s
}

func (s *socket) accept() {
	var delay time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				s.close()
				return
			}
			// Out of file descriptors, or a connection aborted before
			// it was accepted: wait and go on, as net/http's Serve does,
			// rather than give the port up.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			if s.onError != nil {
				s.onError(err, delay)
			}
			select {
			case <-time.After(delay):
				continue
			case <-s.done:
				return
			}
		}
		delay = 0
		select {
		case s.conns <- c:
		case <-s.done:
			c.Close()
			return
		}
	}
}

// close closes the socket; every view's Accept then fails.
func (s *socket) close() {
	s.once.Do(func() {
		close(s.done)
		s.ln.Close()
	})
}

// view returns a listener that takes connections from s until it is
// closed. Closing a view leaves the socket open for the next view.
func (s *socket) view() *socketView {
	return &socketView{s: s, closed: make(chan struct{})}
}

// socketView is one server's window on a socket.
type socketView struct {
	s      *socket
	closed chan struct{}
	once   sync.Once
}

func (v *socketView) Accept() (net.Conn, error) {
	select {
	case c := <-v.s.conns:
		return c, nil
	case <-v.closed:
		return nil, net.ErrClosed
	case <-v.s.done:
		return nil, net.ErrClosed
	}
}

func (v *socketView) Close() error {
	v.once.Do(func() { close(v.closed) })
	return nil
}

func (v *socketView) Addr() net.Addr { return v.s.ln.Addr() }
