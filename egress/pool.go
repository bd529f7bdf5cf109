package egress

import (
	"bufio"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// PoolIdle is how long a connection of a plain request waits in the pool
// for the next request to its destination before it is closed.
const PoolIdle = 60 * time.Second

// poolPerKey bounds the idle connections kept for one key.
const poolPerKey = 16

// Pool keeps the upstream connections of plain (absolute-form) requests
// between requests. A connection is keyed by the host asked, the port
// dialled, the rule that allowed it, and the address the guard checked
// and the dialer connected to: it serves only requests that the same rule
// allows to the same host and port, so that the ranges the guard let it
// reach are those the request may reach, and its TLS origination the
// rule's. It is never dialled again by name: a name that resolves
// elsewhere later (DNS rebinding) gets a connection of its own, through
// the guard, and a rule of a reloaded configuration starts afresh.
type Pool struct {
	mu     sync.Mutex
	idle   map[poolKey][]*pooledConn
	closed bool
}

type poolKey struct {
	host string
	port uint16
	via  *Rule
	// from and principal are the caller as the rules read it (see
	// poolKeyFor): comparable values, so a key costs no allocation.
	from      netip.Addr
	principal string
}

// poolKeyFor is the key of a request by c to host and port that rule via
// allowed. A connection serves one caller alone: whether its address may
// be reached depends on who asks (a deny rule's from).
func poolKeyFor(c Caller, host string, port uint16, via *Rule) poolKey {
	k := poolKey{host: host, port: port, via: via, from: c.Addr}
	if c.Identity != nil {
		k.principal = c.Identity.Principal
	}
	return k
}

// pooledConn is an upstream connection with the reader that reads its
// responses, and the address the guard checked for it.
type pooledConn struct {
	net.Conn
	br    *bufio.Reader
	addr  netip.AddrPort
	local string
	// stop ends the watch of the request it serves, which closes it if
	// the request ends first; it reports whether the watch had not fired.
	stop func() bool
	// watched is closed when the read that waits on an idle connection
	// returned, with idleErr: a timeout when get or the idle time ended
	// it, else the destination closed it or sent something unasked.
	watched chan struct{}
	idleErr error
}

// NewPool returns an empty pool.
func NewPool() *Pool { return &Pool{idle: make(map[poolKey][]*pooledConn)} }

// get returns an idle connection for k that is still open, or nil.
func (p *Pool) get(k poolKey) *pooledConn {
	if p == nil {
		return nil
	}
	for {
		p.mu.Lock()
		list := p.idle[k]
		if len(list) == 0 {
			p.mu.Unlock()
			return nil
		}
		c := list[len(list)-1]
		p.idle[k] = list[:len(list)-1]
		if len(p.idle[k]) == 0 {
			delete(p.idle, k)
		}
		p.mu.Unlock()
		// The connection is get's now; its idle read ends at once.
		c.SetReadDeadline(time.Now())
		<-c.watched
		c.SetReadDeadline(time.Time{})
		if ne, ok := c.idleErr.(net.Error); ok && ne.Timeout() {
			return c
		}
		c.Close()
	}
}

// put keeps c for the next request for k, or closes it. While it waits,
// a read on it notices at once when the destination closes it.
func (p *Pool) put(k poolKey, c *pooledConn) {
	if p == nil {
		c.Close()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle[k]) >= poolPerKey || c.br.Buffered() > 0 {
		c.Close()
		return
	}
	p.idle[k] = append(p.idle[k], c)
	c.watched = make(chan struct{})
	c.SetReadDeadline(time.Now().Add(PoolIdle))
	go p.watch(k, c)
}

// watch waits on an idle connection until the destination closes it or
// sends something, its idle time ends, or get takes it; unless get took
// it, it leaves the pool and is closed.
func (p *Pool) watch(k poolKey, c *pooledConn) {
	_, c.idleErr = c.br.Peek(1)
	close(c.watched)
	p.mu.Lock()
	list := p.idle[k]
	i := slices.Index(list, c)
	if i >= 0 {
		p.idle[k] = slices.Delete(list, i, i+1)
		if len(p.idle[k]) == 0 {
			delete(p.idle, k)
		}
	}
	p.mu.Unlock()
	if i >= 0 {
		c.Close()
	}
}

// Close closes the idle connections, and every connection put back from
// then on.
func (p *Pool) Close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			c.Close()
		}
	}
}
