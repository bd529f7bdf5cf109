package waf

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3/collection"

	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// effort is what Coraza holds for the rules to read after a request's
// phases: the values of the query, the body (form, multipart, JSON), the
// cookies, the header and XML, one by one, and their bytes with the
// request line's.
func effort(h *Handler, raw string, t *testing.T) (values, size int) {
	tx := h.engine.waf.NewTransaction()
	defer finish(tx)
	if _, err := h.request(tx, plugintest.Parse(t, raw), false); err != nil {
		t.Fatal(err)
	}
	v := state(tx).Variables()
	for _, m := range []collection.Map{v.ArgsGet(), v.ArgsPost(), v.RequestCookies(), v.RequestHeaders(), v.XML()} {
		for _, kv := range m.FindAll() {
			values++
			size += len(kv.Key()) + len(kv.Value())
		}
	}
	return values, size + len(v.RequestURI().Get())
}

// TestInspectionEffortWithinLimits sends requests built to make the rules
// read as many values and bytes as they can, through each part of a
// request, just within the default limits and past them, and checks what
// Coraza holds for the rules afterwards: never more than the limits. The
// cost of a request is at most the limits times the cost of a value and
// of a byte, which BenchmarkInspect measures (the README's bound).
func TestInspectionEffortWithinLimits(t *testing.T) {
	if raceDetector {
		t.Skip("slow under the race detector; .ci/run runs it without")
	}
	sc, err := New(Options{}).open(newSection())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	ph, err := sc.Build(new(Use))
	if err != nil {
		t.Fatal(err)
	}
	h := ph.(*Handler)
	defer h.Close()
	l := h.p.Limits
	get := func(target string, header ...string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: example.com\r\n" + strings.Join(header, "") + "\r\n"
	}
	post := func(ctype, body string) string {
		return fmt.Sprintf("POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s", ctype, len(body), body)
	}
	parts := func(n int, field string) string {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		w.SetBoundary("XX")
		for i := range n {
			w.WriteField(fmt.Sprintf("f%d", i), field)
		}
		w.Close()
		return b.String()
	}
	for _, n := range []int{l.Args - 8, l.Args + 8} {
		long := int(l.InspectedBytes) - 200 // with the rest of the request, just within
		if n > l.Args {
			long = int(l.InspectedBytes) + 10
		}
		for _, tt := range []struct{ name, raw string }{
			{"query names", get("/?" + strings.Repeat("a&", n))},
			{"query values", get("/?" + strings.Repeat("=a&", n))},
			{"form", post("application/x-www-form-urlencoded", strings.Repeat("a=b&", n))},
			{"form without values", post("application/x-www-form-urlencoded", strings.Repeat("a&", n))},
			{"cookies", get("/", "Cookie: "+strings.Repeat("a;", n)+"\r\n")},
			{"cookie values", get("/", "Cookie: "+strings.Repeat("=a;", n)+"\r\n")},
			{"header fields", get("/", strings.Repeat("X-A: a\r\n", n))},
			{"JSON values", post("application/json", "["+strings.Repeat("1,", n)+"1]")},
			{"JSON empty arrays", post("application/json", "["+strings.Repeat("[],", n)+"[]]")},
			{"JSON empty objects", post("application/json", `{"a":[`+strings.Repeat("{},", n)+"{}]}")},
			{"JSON empty strings", post("application/json", "["+strings.Repeat(`"",`, n)+`""]`)},
			{"XML elements", post("application/xml", "<a>"+strings.Repeat("<b>1</b>", n)+"</a>")},
			{"XML empty elements", post("application/xml", "<a>"+strings.Repeat("<b/>", n)+"</a>")},
			{"XML attributes", post("application/xml", "<a "+many(n, `a%d="1" `)+"/>")},
			{"multipart", post("multipart/form-data; boundary=XX", parts(n, "a"))},
			{"long field", post("application/x-www-form-urlencoded", "f="+strings.Repeat("a", long))},
			{"long header", get("/", "X-A: "+strings.Repeat("a", long)+"\r\n")},
		} {
			t.Run(fmt.Sprintf("%s %d", tt.name, n), func(t *testing.T) {
				values, size := effort(h, tt.raw, t)
				if values > l.Args || size > int(l.InspectedBytes) {
					t.Errorf("got %d values of %d bytes for the rules, want at most %d of %d", values, size, l.Args, l.InspectedBytes)
				}
			})
		}
	}
}

// many returns n copies of format, each given its index.
func many(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}
