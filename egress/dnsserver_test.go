package egress

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsName is what the test server answers for one name.
type dnsName struct {
	addrs  []string // A for IPv4, AAAA for IPv6
	then   []string // addresses from the second query of a type on
	cname  string   // an alias, answered with the target's records
	ttl    uint32
	rcode  dnsmessage.RCode
	soaTTL uint32 // with an empty answer or NXDOMAIN: an SOA of this minimum
	// truncate answers over UDP with TC set and no records.
	truncate bool
	// silent drops queries over UDP, so that lookups time out.
	silent bool
	// junkFirst sends, before the answer, one with a wrong ID and one for
	// another question, each naming 127.0.0.1.
	junkFirst bool
	// extra adds an A record of 127.0.0.1 for another name.
	extra bool
	// servfail6 answers AAAA queries with SERVFAIL.
	servfail6 bool
	// gate, when set, holds answers until it is closed.
	gate chan struct{}
}

// dnsServer answers from names on 127.0.0.1, UDP and TCP on one port, and
// counts the questions it gets.
type dnsServer struct {
	addr  netip.AddrPort
	mu    sync.Mutex
	names map[string]*dnsName
	asked map[string]int // "name. TYPE" and "tcp name. TYPE"
	udp   *net.UDPConn
	tcp   net.Listener
	wg    sync.WaitGroup
}

func startDNS(t testing.TB, names map[string]*dnsName) *dnsServer {
	t.Helper()
	s := &dnsServer{names: map[string]*dnsName{}, asked: map[string]int{}}
	for n, v := range names {
		s.names[strings.ToLower(n)+"."] = v
	}
	var err error
	for range 20 { // the TCP port of the UDP socket's number may be taken
		s.udp, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			t.Fatal(err)
		}
		s.addr = s.udp.LocalAddr().(*net.UDPAddr).AddrPort()
		if s.tcp, err = net.Listen("tcp", s.addr.String()); err == nil {
			break
		}
		s.udp.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	s.wg.Go(s.serveUDP)
	s.wg.Go(s.serveTCP)
	t.Cleanup(func() {
		s.udp.Close()
		s.tcp.Close()
		s.wg.Wait()
	})
	return s
}

func (s *dnsServer) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked[key]
}

func (s *dnsServer) serveUDP() {
	buf := make([]byte, 65535)
	for {
		n, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		pkt := append([]byte(nil), buf[:n]...)
		s.wg.Go(func() {
			for _, out := range s.answer(pkt, false) {
				s.udp.WriteToUDPAddrPort(out, from)
			}
		})
	}
}

func (s *dnsServer) serveTCP() {
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		s.wg.Go(func() {
			defer c.Close()
			var size [2]byte
			if _, err := io.ReadFull(c, size[:]); err != nil {
				return
			}
			pkt := make([]byte, binary.BigEndian.Uint16(size[:]))
			if _, err := io.ReadFull(c, pkt); err != nil {
				return
			}
			for _, out := range s.answer(pkt, true) {
				c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(out))), out...))
			}
		})
	}
}

// answer builds the datagrams that answer pkt, in order.
func (s *dnsServer) answer(pkt []byte, tcp bool) [][]byte {
	var q dnsmessage.Message
	if q.Unpack(pkt) != nil || len(q.Questions) != 1 {
		return nil
	}
	question := q.Questions[0]
	name := strings.ToLower(question.Name.String())
	key := name + " " + question.Type.String()
	if tcp {
		key = "tcp " + key
	}
	s.mu.Lock()
	s.asked[key]++
	n := s.asked[key]
	entry := s.names[name]
	s.mu.Unlock()
	resp := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: q.ID, Response: true, RecursionAvailable: true, RCode: dnsmessage.RCodeNameError},
		Questions: q.Questions,
	}
	if entry == nil {
		return [][]byte{pack(resp)}
	}
	if entry.gate != nil {
		<-entry.gate
	}
	if !tcp && entry.silent {
		return nil
	}
	resp.RCode = entry.rcode
	if entry.servfail6 && question.Type == dnsmessage.TypeAAAA {
		resp.RCode = dnsmessage.RCodeServerFailure
		return [][]byte{pack(resp)}
	}
	if !tcp && entry.truncate {
		resp.Truncated = true
		return [][]byte{pack(resp)}
	}
	target, owner := entry, question.Name
	if entry.cname != "" {
		cn := dnsmessage.MustNewName(entry.cname + ".")
		resp.Answers = append(resp.Answers, dnsmessage.Resource{
			Header: dnsmessage.ResourceHeader{Name: question.Name, Type: dnsmessage.TypeCNAME, Class: dnsmessage.ClassINET, TTL: entry.ttl},
			Body:   &dnsmessage.CNAMEResource{CNAME: cn},
		})
		s.mu.Lock()
		target, owner = s.names[strings.ToLower(entry.cname)+"."], cn
		s.mu.Unlock()
	}
	addrs := target.addrs
	if n > 1 && target.then != nil {
		addrs = target.then
	}
	for _, a := range addrs {
		if rr, ok := record(owner, question.Type, netip.MustParseAddr(a), target.ttl); ok {
			resp.Answers = append(resp.Answers, rr)
		}
	}
	if entry.extra {
		rr, _ := record(dnsmessage.MustNewName("other.test."), dnsmessage.TypeA, netip.MustParseAddr("127.0.0.1"), 60)
		resp.Answers = append(resp.Answers, rr)
		rr, _ = record(question.Name, dnsmessage.TypeA, netip.MustParseAddr("127.0.0.1"), 60)
		if question.Type == dnsmessage.TypeAAAA { // an A record in a AAAA answer
			resp.Answers = append(resp.Answers, rr)
		}
	}
	if len(resp.Answers) == 0 && entry.soaTTL > 0 {
		resp.Authorities = append(resp.Authorities, dnsmessage.Resource{
			Header: dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName("test."), Type: dnsmessage.TypeSOA, Class: dnsmessage.ClassINET, TTL: 3600},
			Body: &dnsmessage.SOAResource{NS: dnsmessage.MustNewName("ns.test."), MBox: dnsmessage.MustNewName("hostmaster.test."),
				Serial: 1, Refresh: 60, Retry: 60, Expire: 60, MinTTL: entry.soaTTL},
		})
	}
	var out [][]byte
	if entry.junkFirst && !tcp {
		bad := resp
		bad.ID++
		bad.Answers = nil
		rr, _ := record(question.Name, dnsmessage.TypeA, netip.MustParseAddr("127.0.0.1"), 60)
		bad.Answers = append(bad.Answers, rr)
		other := bad
		other.ID = q.ID
		other.Questions = []dnsmessage.Question{{Name: dnsmessage.MustNewName("other.test."), Type: question.Type, Class: dnsmessage.ClassINET}}
		out = append(out, pack(bad), pack(other))
	}
	return append(out, pack(resp))
}

func record(name dnsmessage.Name, qtype dnsmessage.Type, a netip.Addr, ttl uint32) (dnsmessage.Resource, bool) {
	h := dnsmessage.ResourceHeader{Name: name, Type: qtype, Class: dnsmessage.ClassINET, TTL: ttl}
	switch {
	case qtype == dnsmessage.TypeA && a.Is4():
		return dnsmessage.Resource{Header: h, Body: &dnsmessage.AResource{A: a.As4()}}, true
	case qtype == dnsmessage.TypeAAAA && a.Is6():
		return dnsmessage.Resource{Header: h, Body: &dnsmessage.AAAAResource{AAAA: a.As16()}}, true
	}
	return dnsmessage.Resource{}, false
}

func pack(m dnsmessage.Message) []byte {
	b, err := m.Pack()
	if err != nil {
		panic(errors.Join(errors.New("test DNS server"), err))
	}
	return b
}
