package plugins

import (
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/net/http/httpguts"
)

// StdRequest is the RequestView of a request parsed by net/http (HTTP/1.1
// and HTTP/2) or by quic-go's HTTP/3 server, which both give an
// *http.Request. It reads and edits that request in place: the header view
// is its header map, so nothing is copied. The zero value is unusable; an
// engine keeps one per request (or pools it) and calls Reset.
type StdRequest struct {
	r               *http.Request
	path, query     string
	header, trailer headerRef
	// hatch is what HTTPRequest built, kept for later calls.
	hatch *http.Request
	// sent is set once the request has gone upstream (Sent); ended then
	// reports whether its body has ended, nil when it has none.
	sent  bool
	ended *atomic.Bool
	// late is the trailer a plugin sees while net/http may still write
	// the request's own: empty at first, and read by no one else.
	late    http.Header
	lateRef headerRef
}

var _ RequestView = (*StdRequest)(nil)

// Reset makes v the view of r. Until SetTarget, Path and Query are r's own
// (the path as received).
func (v *StdRequest) Reset(r *http.Request) {
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	*v = StdRequest{r: r, path: path, query: r.URL.RawQuery}
	v.header.m, v.trailer.m = &r.Header, &r.Trailer
	v.trailer.spellings = spellingsShared
}

// Sent tells the view that the request has been handed to the upstream,
// whose transport reads the body on a goroutine of its own; net/http writes
// the trailer fields into the request when the body ends there. ended
// reports when the body has ended (the engine sets it after the read that
// ended it), or is nil for a request without a body. From then on Body is
// empty, and until the body has ended the trailer reads as empty (what a
// plugin writes into it goes nowhere) and HTTPRequest's has none, so that
// a response-phase plugin never reads a map that net/http is writing.
func (v *StdRequest) Sent(ended *atomic.Bool) {
	v.sent, v.ended = true, ended
	v.lateRef = headerRef{m: &v.late, spellings: spellingsShared}
	if v.hatch != nil && ended != nil {
		v.hatch.Trailer = nil
	}
}

// unsettled reports whether net/http may still write the request's
// trailer.
func (v *StdRequest) unsettled() bool { return v.sent && v.ended != nil && !v.ended.Load() }

// SetTarget sets the normalised path the route matches and the query as
// forwarded.
func (v *StdRequest) SetTarget(path, query string) { v.path, v.query = path, query }

// Method implements RequestView.
func (v *StdRequest) Method() string { return v.r.Method }

// Scheme implements RequestView.
func (v *StdRequest) Scheme() string {
	if v.r.TLS != nil {
		return "https"
	}
	return "http"
}

// Authority implements RequestView.
func (v *StdRequest) Authority() string { return v.r.Host }

// Path implements RequestView.
func (v *StdRequest) Path() string { return v.path }

// Query implements RequestView.
func (v *StdRequest) Query() string { return v.query }

// Protocol implements RequestView.
func (v *StdRequest) Protocol() string {
	switch {
	case v.r.ProtoMajor == 3:
		return "HTTP/3"
	case v.r.ProtoMajor == 2:
		return "HTTP/2"
	case v.r.ProtoMinor == 0:
		return "HTTP/1.0"
	}
	return "HTTP/1.1"
}

// Header implements RequestView.
func (v *StdRequest) Header() Header { return stdHeader{&v.header} }

// Trailer implements RequestView.
func (v *StdRequest) Trailer() Header {
	if v.unsettled() {
		return stdHeader{&v.lateRef}
	}
	return stdHeader{&v.trailer}
}

// Body implements RequestView.
func (v *StdRequest) Body() io.ReadCloser {
	if v.r.Body == nil || v.sent {
		return http.NoBody
	}
	return v.r.Body
}

// ContentLength implements RequestView.
func (v *StdRequest) ContentLength() int64 {
	if v.r.Body == nil || v.r.Body == http.NoBody {
		return 0
	}
	return v.r.ContentLength
}

// SetBody implements RequestView.
func (v *StdRequest) SetBody(body io.ReadCloser, length int64) {
	setBody(&v.r.Body, &v.r.ContentLength, stdHeader{&v.header}, body, length)
}

// HTTPRequest implements RequestView. It is a shallow copy of the request,
// with its own URL, built once: two allocations.
func (v *StdRequest) HTTPRequest() *http.Request {
	if v.hatch == nil {
		var r *http.Request
		if v.unsettled() {
			r = lateCopy(v.r)
		} else {
			r = new(http.Request)
			*r = *v.r
		}
		u := *v.r.URL
		r.URL = &u
		v.hatch = r
		// The copy writes the maps directly, past what the view knows.
		v.header.spellings, v.trailer.spellings = spellingsShared, spellingsShared
	}
	v.hatch.Body, v.hatch.ContentLength = v.Body(), v.r.ContentLength
	return v.hatch
}

// lateCopy copies r field by field but for Trailer, which net/http may be
// writing.
func lateCopy(r *http.Request) *http.Request {
	c := &http.Request{
		Method: r.Method, URL: r.URL, Proto: r.Proto, ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
		Header: r.Header, ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding, Close: r.Close,
		Host: r.Host, Form: r.Form, PostForm: r.PostForm, MultipartForm: r.MultipartForm,
		RemoteAddr: r.RemoteAddr, RequestURI: r.RequestURI, TLS: r.TLS, Response: r.Response, Pattern: r.Pattern,
	}
	return c.WithContext(r.Context())
}

// StdResponse is the ResponseView of an *http.Response: one the upstream
// transport read, or one the gateway made. It edits the response in place.
type StdResponse struct {
	resp            *http.Response
	header, trailer headerRef
}

var _ ResponseView = (*StdResponse)(nil)

// Reset makes v the view of resp, giving resp a header map if it has none.
func (v *StdResponse) Reset(resp *http.Response) {
	if resp.Header == nil {
		resp.Header = make(http.Header)
	}
	*v = StdResponse{resp: resp}
	v.header.m, v.trailer.m = &resp.Header, &resp.Trailer
	v.trailer.spellings = spellingsShared
}

// Status implements ResponseView.
func (v *StdResponse) Status() int { return v.resp.StatusCode }

// Header implements ResponseView.
func (v *StdResponse) Header() Header { return stdHeader{&v.header} }

// Trailer implements ResponseView.
func (v *StdResponse) Trailer() Header { return stdHeader{&v.trailer} }

// Body implements ResponseView.
func (v *StdResponse) Body() io.ReadCloser {
	if v.resp.Body == nil {
		return http.NoBody
	}
	return v.resp.Body
}

// ContentLength implements ResponseView.
func (v *StdResponse) ContentLength() int64 { return v.resp.ContentLength }

// SetBody implements ResponseView. It does nothing to a response of a
// status that carries no body.
func (v *StdResponse) SetBody(body io.ReadCloser, length int64) {
	if noBody(v.resp.StatusCode) {
		return
	}
	setBody(&v.resp.Body, &v.resp.ContentLength, stdHeader{&v.header}, body, length)
}

// noBody reports whether a response of status carries no body: 1xx (a
// 101's body is the upgraded connection, which the gateway relays as it
// is), 204 and 304.
func noBody(status int) bool {
	return status < 200 || status == http.StatusNoContent || status == http.StatusNotModified
}

// setBody stores a new body and its length in a message's fields, and makes
// its Content-Length field say length, or removes it when the length is
// unknown. A nil body is an empty one.
func setBody(dst *io.ReadCloser, dstLen *int64, h stdHeader, body io.ReadCloser, length int64) {
	if body == nil {
		body, length = http.NoBody, 0
	}
	*dst, *dstLen = body, length
	if length < 0 {
		h.Del("Content-Length")
		return
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
}

// stdHeader is the Header view of a net/http header map. Being one pointer,
// it goes into an interface without allocating.
//
// net/http stores names in canonical form (textproto.CanonicalMIMEHeaderKey),
// and every write through the view does too, so a lookup of a canonical name
// is one map access; any other name is canonicalised on the stack first.
type stdHeader struct{ ref *headerRef }

// headerRef is a header map, through a pointer so that a nil trailer map is
// made on the first write, and what the view knows of its keys.
type headerRef struct {
	m *http.Header
	// spellings says whether the map may hold a key that another spelling
	// of a canonical name (lower case, '_' for '-') reaches: Del must then
	// look at every key. It is learnt on the first Del and kept up to date
	// by the view's own writes; once the map is shared with code that
	// writes it directly (HTTPRequest), every Del looks. A trailer map is
	// shared from the start: net/http writes the fields that end the body
	// into it when the body ends, whatever their spelling.
	spellings spellingState
}

type spellingState uint8

const (
	spellingsUnknown spellingState = iota
	spellingsNone
	spellingsMaybe
	spellingsShared // written by others: always look
)

func (h stdHeader) Get(name string) string {
	if vs := h.Values(name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func (h stdHeader) Values(name string) []string {
	m := *h.ref.m
	if m == nil {
		return nil
	}
	if vs, ok := m[name]; ok {
		return vs
	}
	var buf [maxStackName]byte
	if key, ok := canonicalName(buf[:0], name); ok && string(key) != name {
		return m[string(key)] // a lookup by converted bytes does not allocate
	} else if ok {
		return nil // name is canonical, and absent
	}
	if len(name) > maxStackName {
		return m[textproto.CanonicalMIMEHeaderKey(name)]
	}
	return nil
}

func (h stdHeader) Each(fn func(name, value string) bool) {
	for k, vs := range *h.ref.m {
		for _, v := range vs {
			if !fn(k, v) {
				return
			}
		}
	}
}

func (h stdHeader) Len() int {
	n := 0
	for _, vs := range *h.ref.m {
		n += len(vs)
	}
	return n
}

func (h stdHeader) Set(name, value string) { h.SetValues(name, []string{value}) }

func (h stdHeader) SetValues(name string, values []string) {
	key := textproto.CanonicalMIMEHeaderKey(name)
	h.del(key)
	// After the delete, which learns what the map holds without key.
	h.write(key)
	// No spare capacity: an Add to this field must copy, never write into
	// a slice that other requests share.
	(*h.ref.m)[key] = values[:len(values):len(values)]
}

func (h stdHeader) Add(name, value string) {
	key := textproto.CanonicalMIMEHeaderKey(name)
	h.write(key)
	(*h.ref.m)[key] = append((*h.ref.m)[key], value)
}

func (h stdHeader) AddValues(name string, values []string) {
	key := textproto.CanonicalMIMEHeaderKey(name)
	h.write(key)
	if old := (*h.ref.m)[key]; len(old) > 0 {
		// Shared slices have no spare capacity, so this append copies
		// unless the spare capacity is this request's own.
		(*h.ref.m)[key] = append(old, values...)
		return
	}
	(*h.ref.m)[key] = values[:len(values):len(values)]
}

func (h stdHeader) Del(name string) { h.del(textproto.CanonicalMIMEHeaderKey(name)) }

// write prepares the map for a write of key, a canonical name.
func (h stdHeader) write(key string) {
	if *h.ref.m == nil {
		*h.ref.m = make(http.Header)
	}
	if h.ref.spellings == spellingsNone && spellingOf(key) {
		h.ref.spellings = spellingsMaybe
	}
}

// del removes key, the canonical form of a name, and every other spelling
// of it: any ASCII case, and '_' for '-' (SameHeaderName). Comparing in place
// allocates nothing; a map lookup cannot find another spelling. When the view
// knows that no key is another spelling of a canonical name (every key is
// canonical, without '_'), the one map delete is enough for a key without
// '_': one with it, such as X_api_key, also reaches the canonical X-Api-Key.
func (h stdHeader) del(key string) {
	m := *h.ref.m
	delete(m, key)
	if h.ref.spellings == spellingsNone && strings.IndexByte(key, '_') < 0 {
		return
	}
	maybe := false
	for k := range m {
		if len(k) == len(key) && SameHeaderName(k, key) {
			delete(m, k)
		} else if !maybe && spellingOf(k) {
			maybe = true
		}
	}
	if h.ref.spellings != spellingsShared {
		h.ref.spellings = spellingsNone
		if maybe {
			h.ref.spellings = spellingsMaybe
		}
	}
}

// spellingOf reports whether a key could be another spelling of a canonical
// name: it holds '_', or it is not canonical itself.
func spellingOf(k string) bool {
	var buf [maxStackName]byte
	key, ok := canonicalName(buf[:0], k)
	return !ok || string(key) != k || strings.IndexByte(k, '_') >= 0
}

// maxStackName is the longest name canonicalised without allocating; longer
// names are rare and take textproto's path.
const maxStackName = 64

// canonicalName appends to dst the canonical form of name, as
// textproto.CanonicalMIMEHeaderKey writes it, and reports whether it did: it
// does not for a name longer than dst's capacity, nor for one holding a byte
// that is not a token character, which textproto leaves as it is.
func canonicalName(dst []byte, name string) ([]byte, bool) {
	if len(name) > cap(dst) || name == "" {
		return nil, false
	}
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !httpguts.IsTokenRune(rune(c)) {
			return nil, false
		}
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		upper = c == '-'
	}
	return dst, true
}
