package egress

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// udpSize is the EDNS(0) payload size offered, the DNS Flag Day 2020
// value that avoids IP fragmentation; a larger answer comes truncated and
// is asked again over TCP.
const udpSize = 1232

// maxCNAMEs bounds the alias chain followed within one answer.
const maxCNAMEs = 8

// maxAddrsPerType bounds the addresses kept of one answer, in the order
// the server gave them, as musl's resolver bounds its own: a name is
// dialled at one of its first few, and an answer of thousands (up to
// 64 KiB over TCP) would otherwise fill the cache, the dial's verdicts and
// its connect attempts. Addresses cut here are never dialled, so that the
// guard checks every address that can be.
const maxAddrsPerType = 32

// answer is what one query for one type gave.
type answer struct {
	rcode  dnsmessage.RCode
	addrs  []netip.Addr
	ttl    time.Duration // the lowest TTL along the chain of the addresses
	negTTL time.Duration // for an empty answer: the SOA's (RFC 2308), 0 without one
}

// query asks server for name's records of type qtype over UDP, retrying
// once on silence and again over TCP when the answer is truncated.
func query(ctx context.Context, server netip.AddrPort, name string, qtype dnsmessage.Type) (answer, error) {
	q, err := dnsmessage.NewName(name + ".")
	if err != nil {
		return answer{}, fmt.Errorf("%w: %w", ErrServFail, err)
	}
	question := dnsmessage.Question{Name: q, Type: qtype, Class: dnsmessage.ClassINET}
	var lastErr error
	for attempt := range 2 {
		left := DefaultDNSTimeout
		if deadline, ok := ctx.Deadline(); ok {
			left = time.Until(deadline)
		}
		// The first attempt gets half the time left, so a lost datagram
		// leaves room for a second.
		actx, cancel := context.WithTimeout(ctx, left/time.Duration(2-attempt))
		msg, err := exchange(actx, "udp", server, question)
		cancel()
		if err == nil && msg.Truncated {
			msg, err = exchange(ctx, "tcp", server, question)
		}
		if err == nil {
			return parseAnswer(msg, question)
		}
		lastErr = err
		if ctx.Err() != nil || !isTimeout(err) {
			break
		}
	}
	if isTimeout(lastErr) {
		return answer{}, fmt.Errorf("%s %s: %w", qtype, server, ErrDNSTimeout)
	}
	return answer{}, fmt.Errorf("%s %s: %w: %w", qtype, server, ErrServFail, lastErr)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// exchange sends one query and reads until the matching answer: same ID,
// a response, the same question. Anything else on the socket is dropped,
// so that a stray or forged datagram cannot answer for the server.
func exchange(ctx context.Context, network string, server netip.AddrPort, q dnsmessage.Question) (*dnsmessage.Message, error) {
	id := uint16(rand.Uint32())
	packet, err := buildQuery(id, q)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, server.String())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	if network == "tcp" {
		return exchangeTCP(conn, packet, id, q)
	}
	if _, err := conn.Write(packet); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, err
		}
		if msg, ok := matches(buf[:n], id, q); ok {
			return msg, nil
		}
	}
}

// buildQuery packs a recursive query for q with an EDNS(0) record that
// offers udpSize.
func buildQuery(id uint16, q dnsmessage.Question) ([]byte, error) {
	msg := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{q},
	}
	var opt dnsmessage.ResourceHeader
	if err := opt.SetEDNS0(udpSize, dnsmessage.RCodeSuccess, false); err != nil {
		return nil, err
	}
	msg.Additionals = []dnsmessage.Resource{{Header: opt, Body: &dnsmessage.OPTResource{}}}
	return msg.Pack()
}

// exchangeTCP sends packet with its length prefix (RFC 1035 4.2.2) and
// reads one answer the same way.
func exchangeTCP(conn net.Conn, packet []byte, id uint16, q dnsmessage.Question) (*dnsmessage.Message, error) {
	framed := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(packet)), uint16(len(packet)))
	if _, err := conn.Write(append(framed, packet...)); err != nil {
		return nil, err
	}
	var size [2]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		return nil, err
	}
	buf := make([]byte, binary.BigEndian.Uint16(size[:]))
	if _, err := io.ReadFull(conn, buf); err != nil {
		return nil, err
	}
	msg, ok := matches(buf, id, q)
	if !ok {
		return nil, errors.New("answer over TCP does not match the query")
	}
	return msg, nil
}

// matches parses b and reports whether it answers the query id for q.
func matches(b []byte, id uint16, q dnsmessage.Question) (*dnsmessage.Message, bool) {
	var msg dnsmessage.Message
	if err := msg.Unpack(b); err != nil {
		return nil, false
	}
	if msg.ID != id || !msg.Response || len(msg.Questions) != 1 {
		return nil, false
	}
	got := msg.Questions[0]
	if got.Type != q.Type || got.Class != q.Class || !strings.EqualFold(got.Name.String(), q.Name.String()) {
		return nil, false
	}
	return &msg, true
}

// parseAnswer reads the addresses for q from msg: it follows the CNAME
// chain from the name asked and takes only records of the type asked at the
// chain's end, so that extra records a server adds cannot name addresses
// for other names. An empty answer takes its negative TTL from the SOA.
func parseAnswer(msg *dnsmessage.Message, q dnsmessage.Question) (answer, error) {
	a := answer{rcode: msg.RCode}
	switch msg.RCode {
	case dnsmessage.RCodeSuccess, dnsmessage.RCodeNameError:
	default:
		return a, fmt.Errorf("%s: %w (%s)", q.Type, ErrServFail, msg.RCode)
	}
	cur := strings.ToLower(q.Name.String())
	ttl := uint32(1<<31 - 1)
	for range maxCNAMEs {
		next := ""
		for _, rr := range msg.Answers {
			if c, ok := rr.Body.(*dnsmessage.CNAMEResource); ok && strings.EqualFold(rr.Header.Name.String(), cur) {
				next, ttl = strings.ToLower(c.CNAME.String()), min(ttl, rrTTL(rr.Header.TTL))
				break
			}
		}
		if next == "" {
			break
		}
		cur = next
	}
	for _, rr := range msg.Answers {
		if len(a.addrs) == maxAddrsPerType {
			break
		}
		if rr.Header.Type != q.Type || rr.Header.Class != dnsmessage.ClassINET || !strings.EqualFold(rr.Header.Name.String(), cur) {
			continue
		}
		switch body := rr.Body.(type) {
		case *dnsmessage.AResource:
			a.addrs = append(a.addrs, netip.AddrFrom4(body.A))
		case *dnsmessage.AAAAResource:
			a.addrs = append(a.addrs, netip.AddrFrom16(body.AAAA))
		default:
			continue
		}
		ttl = min(ttl, rrTTL(rr.Header.TTL))
	}
	a.ttl = time.Duration(ttl) * time.Second
	if len(a.addrs) == 0 {
		// Without an SOA nothing says how long the absence lasts: the
		// resolver keeps it for its minimum only (RFC 2308 section 5).
		for _, rr := range msg.Authorities {
			if soa, ok := rr.Body.(*dnsmessage.SOAResource); ok {
				a.negTTL = time.Duration(min(ttl, rrTTL(rr.Header.TTL), rrTTL(soa.MinTTL))) * time.Second
			}
		}
	}
	return a, nil
}

// rrTTL reads a TTL as RFC 2181 section 8 says: a value with the top bit
// set is 0, so that a server cannot stretch the time an answer is kept to
// the resolver's maximum by sending one.
func rrTTL(v uint32) uint32 {
	if v >= 1<<31 {
		return 0
	}
	return v
}
