package metrics

import (
	"strings"
	"sync"
)

// maxHostLabels bounds the distinct destination_service values taken from
// Host headers. The Host of an unrouted request is the client's to choose;
// without a bound, a client sending random hosts would create series (and
// memory in the gateway and in Prometheus) without limit. Past the bound,
// new hosts are written as "unknown". Services named by the config are not
// counted: the config bounds them.
const maxHostLabels = 256

// maxHostLen is the longest DNS name.
const maxHostLen = 253

// hostLabel returns the host of an authority, lower-cased and without port,
// or "" when it is not a plausible host: empty, too long, or holding a byte
// that no DNS name or IP literal has.
func hostLabel(authority string) string {
	h := authority
	if strings.HasPrefix(h, "[") { // IPv6 literal, [::1]:8080
		end := strings.IndexByte(h, ']')
		if end < 0 || (end+1 < len(h) && h[end+1] != ':') {
			return ""
		}
		h = h[:end+1]
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	if h == "" || len(h) > maxHostLen {
		return ""
	}
	upper := false
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '.', c == '-', c == '_':
		case 'A' <= c && c <= 'Z':
			upper = true
		case c == '[' || c == ']' || c == ':':
			if h[0] != '[' {
				return ""
			}
		default:
			return ""
		}
	}
	if upper {
		return strings.ToLower(h)
	}
	return h
}

// hostSet remembers the hosts already given a label of their own.
type hostSet struct {
	mu   sync.RWMutex
	seen map[string]string
	max  int
}

// label returns the destination_service value for host: host itself while
// fewer than max hosts were seen, "unknown" for an empty host or a new one
// past the bound.
func (s *hostSet) label(host string) string {
	if host == "" {
		return unknown
	}
	s.mu.RLock()
	v, ok := s.seen[host]
	full := len(s.seen) >= s.max
	s.mu.RUnlock()
	if ok {
		return v
	}
	if full { // a flood of new hosts must not serialise on the write lock
		return unknown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.seen[host]; ok {
		return v
	}
	if len(s.seen) >= s.max {
		return unknown
	}
	// A copy, so the set does not keep the request's header memory alive.
	v = strings.Clone(host)
	s.seen[v] = v
	return v
}
