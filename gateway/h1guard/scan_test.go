package h1guard

import (
	"strings"
	"testing"
)

const (
	get     = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	postTE  = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
)

// scanCase is a byte stream: ok passes, and the first byte of rest breaks
// rule kind (or rest is empty and kind 0).
type scanCase struct {
	name     string
	ok, rest string
	kind     Kind
}

var scanCases = []scanCase{
	{name: "get", ok: get},
	{name: "pipelined", ok: get + get + get},
	{name: "content length body", ok: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" + get},
	{name: "field after content length", ok: "POST / HTTP/1.1\r\nContent-Length: 3\r\nX:\r\n0: 1\r\n\r\nabc" + get},
	{name: "content length zero", ok: "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n" + get},
	{name: "content length whitespace", ok: "POST / HTTP/1.1\r\nContent-Length:\t 3 \t\r\n\r\nabc"},
	{name: "content length leading zeros", ok: "POST / HTTP/1.1\r\nContent-Length: 003\r\n\r\nabc"},
	{name: "chunked with extensions and trailer", ok: postTE + "4;a=b;c=\"x\\\"y\"\r\nWiki\r\n5 ; z\r\npedia\r\nA;q\r\n0123456789\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n" + get},
	{name: "chunked empty", ok: postTE + "0\r\n\r\n" + get},
	{name: "chunked mixed case", ok: "POST / HTTP/1.1\r\ntransfer-encoding:  ChUnKeD \t\r\n\r\n000a\r\n0123456789\r\n0\r\n\r\n"},
	{name: "extension whitespace", ok: postTE + "1 \t; a \t= \"b c\"\t;d\r\nx\r\n0\r\n\r\n"},
	{name: "http 1.0", ok: "GET / HTTP/1.0\r\n\r\n"},
	{name: "leading empty lines", ok: "POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\na\r\n\r\n" + get},
	{name: "connect", ok: "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"},
	{name: "method with dash", ok: "M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n"},
	{name: "obs text in value", ok: "GET / HTTP/1.1\r\nX: caf\xc3\xa9\t!\r\nX-Empty:\r\n\r\n"},
	{name: "names that are not framing fields", ok: "GET / HTTP/1.1\r\nContent-Lengthy: x\r\nTransfer: y\r\nHosts: z\r\nHost: a\r\n\r\n"},
	{name: "preface", ok: preface + "\x00\x00\x12\x04\x00\x00\x00\x00\x00 anything\n\r"},
	{name: "uppercase hex", ok: postTE + "A\r\n0123456789\r\n0\r\n\r\n"},

	{name: "bare LF request line", ok: "GET / HTTP/1.1", rest: "\nHost: a\n\n", kind: BareLF},
	{name: "bare LF field", ok: "GET / HTTP/1.1\r\nHost: a", rest: "\n\r\n", kind: BareLF},
	{name: "bare LF end of head", ok: "GET / HTTP/1.1\r\nHost: a\r\n", rest: "\n", kind: BareLF},
	{name: "bare LF after good request", ok: get + "GET / HTTP/1.1", rest: "\n\n", kind: BareLF},
	{name: "bare LF before request", ok: "", rest: "\nGET / HTTP/1.1\r\n\r\n", kind: BareLF},
	{name: "obs fold space", ok: "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\r\n", rest: "  folded\r\n\r\n", kind: ObsFold},
	{name: "obs fold tab", ok: "GET / HTTP/1.1\r\n", rest: "\tHost: a\r\n\r\n", kind: ObsFold},
	{name: "bare CR in value", ok: "GET / HTTP/1.1\r\nX: a\r", rest: "b\r\n\r\n", kind: BareCR},
	{name: "bare CR after request line", ok: "GET / HTTP/1.1\r", rest: "Host: a\r\n\r\n", kind: BareCR},
	{name: "bare CR end of head", ok: "GET / HTTP/1.1\r\n\r", rest: "\r\n", kind: BareCR},
	{name: "lower case method", ok: "", rest: "get / HTTP/1.1\r\n\r\n", kind: RequestLine},
	{name: "method with digit", ok: "GET", rest: "2 / HTTP/1.1\r\n\r\n", kind: RequestLine},
	{name: "double space", ok: "GET ", rest: " / HTTP/1.1\r\n\r\n", kind: RequestLine},
	{name: "NUL in target", ok: "GET /a", rest: "\x00b HTTP/1.1\r\n\r\n", kind: RequestLine},
	{name: "DEL in target", ok: "GET /", rest: "\x7f HTTP/1.1\r\n\r\n", kind: RequestLine},
	{name: "CR in target", ok: "GET /", rest: "\r\n\r\n", kind: RequestLine},
	{name: "lower case version", ok: "GET / ", rest: "http/1.1\r\n\r\n", kind: RequestLine},
	{name: "version 2", ok: "GET / HTTP/", rest: "2.0\r\n\r\n", kind: RequestLine},
	{name: "version 1.10", ok: "GET / HTTP/1.1", rest: "0\r\n\r\n", kind: RequestLine},
	{name: "space after version", ok: "GET / HTTP/1.1", rest: " \r\n\r\n", kind: RequestLine},
	{name: "no version", ok: "GET /", rest: "\r\n\r\n", kind: RequestLine},
	{name: "three empty lines", ok: "\r\n\r\n", rest: "\r\nGET / HTTP/1.1\r\n\r\n", kind: RequestLine},
	{name: "preface broken", ok: "PRI * HTTP/2.0\r\n", rest: "X\r\n", kind: RequestLine},
	{name: "preface not first", ok: get + "PRI * HTTP/", rest: "2.0\r\n\r\nSM\r\n\r\n", kind: RequestLine},
	{name: "preface after empty line", ok: "\r\nPRI * HTTP/", rest: "2.0\r\n\r\n", kind: RequestLine},
	{name: "preface wrong target", ok: "PRI / HTTP/", rest: "2.0\r\n\r\n", kind: RequestLine},
	{name: "preface wrong method", ok: "PRIX * HTTP/", rest: "2.0\r\n\r\n", kind: RequestLine},
	{name: "space before colon", ok: "GET / HTTP/1.1\r\nHost", rest: " : a\r\n\r\n", kind: HeaderName},
	{name: "space in name", ok: "GET / HTTP/1.1\r\nHo", rest: " st: a\r\n\r\n", kind: HeaderName},
	{name: "empty name", ok: "GET / HTTP/1.1\r\n", rest: ": a\r\n\r\n", kind: HeaderName},
	{name: "NUL in name", ok: "GET / HTTP/1.1\r\nX", rest: "\x00: a\r\n\r\n", kind: HeaderName},
	{name: "no colon", ok: "GET / HTTP/1.1\r\nHost", rest: "\r\n\r\n", kind: HeaderName},
	{name: "NUL in value", ok: "GET / HTTP/1.1\r\nX: a", rest: "\x00b\r\n\r\n", kind: HeaderValue},
	{name: "DEL in value", ok: "GET / HTTP/1.1\r\nX: a", rest: "\x7f\r\n\r\n", kind: HeaderValue},
	{name: "control in host", ok: "GET / HTTP/1.1\r\nHost: a", rest: "\x01\r\n\r\n", kind: HeaderValue},
	{name: "host with port and spaces", ok: "GET / HTTP/1.1\r\nHost: \t a.b:80 \t\r\n\r\n"},
	{name: "host ipv6", ok: "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"},
	{name: "empty host", ok: "GET / HTTP/1.1\r\nHost:\r\n\r\n"},
	{name: "space inside host", ok: "GET / HTTP/1.1\r\nHost: sh ", rest: "op\r\n\r\n", kind: Host},
	{name: "slash in host", ok: "GET / HTTP/1.1\r\nHost: a", rest: "/b\r\n\r\n", kind: Host},
	{name: "quote in host", ok: "GET / HTTP/1.1\r\nHost: a", rest: "\"\r\n\r\n", kind: Host},
	{name: "obs text in host", ok: "GET / HTTP/1.1\r\nhost: caf", rest: "\xc3\xa9\r\n\r\n", kind: Host},
	{name: "escapes in path and query", ok: "GET /a%2F%c3%A9?q=%zz%&x HTTP/1.1\r\nHost: a\r\n\r\n"},
	{name: "bad escape", ok: "GET /a%", rest: "zz HTTP/1.1\r\n\r\n", kind: RequestLine},
	{name: "half escape", ok: "GET /a%2", rest: "g HTTP/1.1\r\n\r\n", kind: RequestLine},
	{name: "escape cut by the end", ok: "GET /a%2", rest: " HTTP/1.1\r\n\r\n", kind: RequestLine},
	{name: "escape cut by the query", ok: "GET /a%", rest: "?b HTTP/1.1\r\n\r\n", kind: RequestLine},
	{name: "bad escape in absolute form", ok: "GET http://a/%", rest: "%41 HTTP/1.1\r\n\r\n", kind: RequestLine},
	{name: "bad escape after a good request", ok: get + "GET /%4", rest: "x HTTP/1.1\r\n\r\n", kind: RequestLine},
	{name: "duplicate host", ok: "GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r", rest: "\n\r\n", kind: DuplicateHost},
	{name: "content length plus", ok: "POST / HTTP/1.1\r\nContent-Length: ", rest: "+3\r\n\r\nabc", kind: ContentLength},
	{name: "content length minus", ok: "POST / HTTP/1.1\r\nContent-Length: ", rest: "-3\r\n\r\nabc", kind: ContentLength},
	{name: "content length junk", ok: "POST / HTTP/1.1\r\nContent-Length: 3", rest: "a\r\n\r\nabc", kind: ContentLength},
	{name: "content length list", ok: "POST / HTTP/1.1\r\nContent-Length: 3", rest: ",3\r\n\r\nabc", kind: ContentLength},
	{name: "content length two numbers", ok: "POST / HTTP/1.1\r\nContent-Length: 3 ", rest: "4\r\n\r\nabc", kind: ContentLength},
	{name: "content length empty", ok: "POST / HTTP/1.1\r\nContent-Length: ", rest: "\r\n\r\n", kind: ContentLength},
	{name: "content length 19 digits", ok: "POST / HTTP/1.1\r\nContent-Length: 100000000000000000", rest: "0\r\n\r\n", kind: ContentLength},
	{name: "content length twice", ok: "POST / HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3\r", rest: "\n\r\nabc", kind: ContentLength},
	{name: "content length then chunked", ok: "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r", rest: "\n\r\n0\r\n\r\n", kind: ContentLengthAndTransferEncoding},
	{name: "chunked then content length", ok: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r", rest: "\n\r\n0\r\n\r\n", kind: ContentLengthAndTransferEncoding},
	{name: "gzip", ok: "POST / HTTP/1.1\r\nTransfer-Encoding: ", rest: "gzip\r\n\r\n", kind: TransferEncoding},
	{name: "chunked list", ok: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked", rest: ", chunked\r\n\r\n", kind: TransferEncoding},
	{name: "chunked with space inside", ok: "POST / HTTP/1.1\r\nTransfer-Encoding: chun", rest: " ked\r\n\r\n", kind: TransferEncoding},
	{name: "chunked prefix", ok: "POST / HTTP/1.1\r\nTransfer-Encoding: chunk", rest: "\r\n\r\n", kind: TransferEncoding},
	{name: "chunked twice", ok: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r", rest: "\n\r\n", kind: TransferEncoding},
	{name: "chunked on http 1.0", ok: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r", rest: "\n\r\n0\r\n\r\n", kind: TransferEncoding},
	{name: "chunk size bare LF", ok: postTE + "3", rest: "\nabc\r\n0\r\n\r\n", kind: BareLF},
	{name: "chunk size bare CR", ok: postTE + "3\r", rest: "abc\r\n0\r\n\r\n", kind: BareCR},
	{name: "chunk size not hex", ok: postTE, rest: "x\r\n", kind: Chunk},
	{name: "chunk size missing", ok: postTE, rest: ";a\r\n", kind: Chunk},
	{name: "chunk size trailing space", ok: postTE + "3 ", rest: "\r\nabc\r\n", kind: Chunk},
	{name: "chunk size too large", ok: postTE + "1000000000", rest: "1\r\n", kind: Chunk},
	{name: "chunk size 17 digits", ok: postTE + "0000000000000000", rest: "1\r\nx\r\n", kind: Chunk},
	{name: "extension without name", ok: postTE + "3;", rest: "\r\nabc\r\n", kind: Chunk},
	{name: "extension without value", ok: postTE + "3;a=", rest: "\r\nabc\r\n", kind: Chunk},
	{name: "extension open quote", ok: postTE + "3;a=\"b", rest: "\r\nabc\r\n", kind: Chunk},
	{name: "extension two words", ok: postTE + "3;a ", rest: "b\r\nabc\r\n", kind: Chunk},
	{name: "extension bare LF", ok: postTE + "3;a=b", rest: "\nabc\r\n", kind: BareLF},
	{name: "extension control in quotes", ok: postTE + "3;a=\"", rest: "\x01\"\r\nabc\r\n", kind: Chunk},
	{name: "chunk line too long", ok: postTE + "1;a=" + strings.Repeat("b", maxChunkLine-4), rest: "b\r\nx\r\n", kind: Chunk},
	{name: "no CRLF after data", ok: postTE + "3\r\nabc", rest: "X\r\n0\r\n\r\n", kind: Chunk},
	{name: "bare LF after data", ok: postTE + "3\r\nabc", rest: "\n0\r\n\r\n", kind: BareLF},
	{name: "bare CR after data", ok: postTE + "3\r\nabc\r", rest: "0\r\n\r\n", kind: BareCR},
	{name: "trailer obs fold", ok: postTE + "0\r\nX: a\r\n", rest: " b\r\n\r\n", kind: ObsFold},
	{name: "trailer bare LF", ok: postTE + "0\r\nX: a", rest: "\n\r\n", kind: BareLF},
	{name: "trailer bad name", ok: postTE + "0\r\nX", rest: " a\r\n\r\n", kind: HeaderName},
	{name: "trailer end bare CR", ok: postTE + "0\r\n\r", rest: "X", kind: BareCR},
}

// scanChunks feeds in to a fresh scanner in pieces of size n and returns the
// offset where it stopped and the rule broken there.
func scanChunks(in string, n, maxHead int) (int, Kind, *scanner) {
	s := newScanner(maxHead)
	off := 0
	for off < len(in) {
		end := min(len(in), off+n)
		k, kind := s.scan([]byte(in[off:end]))
		if kind != 0 {
			return off + k, kind, &s
		}
		off = end
	}
	return off, 0, &s
}

func TestScan(t *testing.T) {
	for _, tc := range scanCases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.ok + tc.rest
			for _, n := range []int{len(in), 1, 7} {
				off, kind, _ := scanChunks(in, n, DefaultMaxHeaderBytes)
				if off != len(tc.ok) || kind != tc.kind {
					t.Errorf("pieces of %d: got %s at %d, want %s at %d", n, kind, off, tc.kind, len(tc.ok))
				}
			}
		})
	}
}

func TestScanLimits(t *testing.T) {
	long := "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 100) + "\r\n\r\n"
	tests := []struct {
		name    string
		in      string
		max     int
		wantOff int
		want    Kind
	}{
		{"head within limit", long, len(long), len(long), 0},
		{"head one byte over", long, len(long) - 1, len(long) - 1, HeadTooLarge},
		{"head far over", long, 20, 20, HeadTooLarge},
		{"limit resets per request", get + get + get, len(get), 3 * len(get), 0},
		{"leading empty lines count", "\r\n" + get, len(get), len(get), HeadTooLarge},
		{"trailer within limit", postTE + "0\r\nX: 1\r\n\r\n", len(postTE), len(postTE) + 11, 0},
		{"trailer over", postTE + "0\r\nX: " + strings.Repeat("a", len(postTE)) + "\r\n\r\n", len(postTE), 2*len(postTE) + 3, TrailerTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{len(tc.in), 1, 5} {
				off, kind, _ := scanChunks(tc.in, n, tc.max)
				if off != tc.wantOff || kind != tc.want {
					t.Errorf("pieces of %d: got %s at %d, want %s at %d", n, kind, off, tc.want, tc.wantOff)
				}
			}
		})
	}
}

func TestScanPassThrough(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"preface", preface, true},
		{"preface head only", "PRI * HTTP/2.0\r\n\r\n", true},
		{"preface unfinished", "PRI * HTTP/2.0\r\n\r", false},
		{"ordinary request", get, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{len(tc.in), 1} {
				_, kind, s := scanChunks(tc.in, n, DefaultMaxHeaderBytes)
				if got := s.state == stPass; got != tc.want || kind != 0 {
					t.Errorf("pieces of %d: got pass %v (%s), want %v", n, got, kind, tc.want)
				}
			}
		})
	}
}
