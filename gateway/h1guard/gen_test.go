package h1guard

import (
	"fmt"
	"strings"
)

// dice turns fuzz bytes into choices; when they run out every choice is 0.
type dice struct{ b []byte }

func (d *dice) n(k int) int {
	if len(d.b) == 0 {
		return 0
	}
	v := int(d.b[0]) % k
	d.b = d.b[1:]
	return v
}

func (d *dice) pick(s ...string) string { return s[d.n(len(s))] }

// bytes returns n arbitrary bytes: body data may hold anything.
func (d *dice) bytes(n int) string {
	var sb strings.Builder
	for range n {
		sb.WriteByte(byte(d.n(256)))
	}
	return sb.String()
}

// validStream builds one to four valid requests and returns them with the
// offset where each ends.
func validStream(d *dice) (string, []int) {
	var sb strings.Builder
	var ends []int
	for range 1 + d.n(4) {
		http10 := d.n(4) == 0
		version := "HTTP/1.1"
		if http10 {
			version = "HTTP/1.0"
		}
		fmt.Fprintf(&sb, "%s %s %s\r\n", d.pick("GET", "POST", "PUT", "M-SEARCH", "OPTIONS"),
			d.pick("/", "/a/b?c=d&e", "*", "http://x/y", "/%41~!$&'()*+,;=:@"), version)
		if d.n(2) == 0 {
			sb.WriteString("Host: x\r\n")
		}
		for range d.n(4) {
			fmt.Fprintf(&sb, "%s:%s%s%s\r\n", d.pick("X-A", "accept", "Content-Lengthy", "TE", "hosts"),
				d.pick("", " ", "\t "), d.pick("", "v", "a b\tc", "caf\xc3\xa9", `"q"`), d.pick("", " ", "\t"))
		}
		switch d.n(3) {
		case 1:
			body := d.bytes(d.n(40))
			fmt.Fprintf(&sb, "%s:%s%d\r\n\r\n%s", d.pick("Content-Length", "content-length", "CONTENT-LENGTH"), d.pick("", " "), len(body), body)
		case 2:
			if http10 {
				sb.WriteString("\r\n")
				break
			}
			fmt.Fprintf(&sb, "Transfer-Encoding: %s\r\n\r\n", d.pick("chunked", "Chunked", " CHUNKED "))
			for range d.n(3) {
				data := d.bytes(1 + d.n(20))
				fmt.Fprintf(&sb, d.pick("%x", "%X", "0%x")+"%s\r\n%s\r\n", len(data), d.pick("", ";a", ";a=b", `;q="x \" y"`, ";a;b=c"), data)
			}
			fmt.Fprintf(&sb, "0%s\r\n", d.pick("", ";end"))
			for range d.n(3) {
				fmt.Fprintf(&sb, "X-T%d: %s\r\n", d.n(10), d.pick("", "t", "a b"))
			}
			sb.WriteString("\r\n")
		default:
			sb.WriteString("\r\n")
		}
		ends = append(ends, sb.Len())
	}
	return sb.String(), ends
}
