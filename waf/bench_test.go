package waf_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// benchProfiles is the default profile (paranoia level 1) and the same at
// paranoia level 2, each on a route of its own.
const benchProfiles = `listeners: [{ name: public, address: "127.0.0.1:0" }]
upstreams: [{ name: echo, builtin: echo }]
waf: { profiles: { pl2: { crs: { paranoia: 2 } } } }
virtual_hosts:
  - name: site
    hosts: ["*"]
    routes:
      - { name: pl2, match: { path_prefix: /pl2/ }, upstream: echo, plugins: [{ waf: pl2 }] }
      - { name: pl1, upstream: echo, plugins: [{ waf: default }] }
`

// variants is how many distinct requests each benchmark cycles through, so
// that no cache of Coraza's can stand in for inspecting.
const variants = 64

const benchHeader = "Host: shop.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: application/json, text/plain, */*\r\nAccept-Language: en-GB,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n" +
	"Cookie: session=4f9c2a7e1b; theme=dark\r\n"

// raw builds an HTTP/1.1 request.
func raw(method, target, ctype, body string) string {
	h := benchHeader
	if body != "" {
		h += fmt.Sprintf("Content-Type: %s\r\nContent-Length: %d\r\n", ctype, len(body))
	}
	return method + " " + target + " HTTP/1.1\r\n" + h + "\r\n" + body
}

// order is a JSON body of about 4 KiB with 240 values, as an API's POST.
func order(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"order":%d,"customer":{"name":"Customer %d","email":"c%d@example.com"},"items":[`, i, i, i)
	for j := range 58 {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%04d","qty":%d,"price":%d.%02d,"gift":false}`, i*100+j, j%5+1, 10+j, i%100)
	}
	b.WriteString(`],"note":"Leave at the door"}`)
	return b.String()
}

// The default profile's limits (see validate.go), which the worst cases
// fill: worstValues values of worstValueBytes each, with room for the
// request's header.
const (
	defaultArgs           = 256
	defaultInspectedBytes = 64 << 10
	worstValues           = defaultArgs - 16
	worstValueBytes       = (defaultInspectedBytes-2048)/worstValues - 16
)

// busyText is text that keeps many of the CRS's expressions busy: it holds
// the characters their literals start with, and a percent sign and a
// letter beyond ASCII (in a form, %25 and %C3%A9) for the URL and UTF-8
// decodings to work on.
// attackText matches many rules.
func attackText(i int) string {
	return fmt.Sprintf("%d' or 1=1 union select <script>alert(1)</script>../../etc/passwd;cat /etc/passwd|`id`$(id){{7*7}}${jndi:ldap://x} %%25x%%C3%%A9 ", i%10)
}

func busyText(i int) string { return fmt.Sprintf("a b c;d'(e)<f>/g%d %%25x%%C3%%A9 ", i%10) }

// verbatim is s in a format string for many.
func verbatim(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// fill repeats s to n bytes.
func fill(s string, n int) string { return strings.Repeat(s, n/len(s)+1)[:n] }

// withHeader adds header fields to a request without a body.
func withHeader(req, fields string) string {
	return strings.TrimSuffix(req, "\r\n") + fields + "\r\n\r\n"
}

// benchRequests are the requests each benchmark sends, by name, each in
// variants versions.
var benchRequests = map[string]func(prefix string, i int) string{
	"get": func(p string, i int) string {
		return raw("GET", fmt.Sprintf("%s/products/shoes?page=%d&order=price&q=blue+shoes+%d", p, i%7, i), "", "")
	},
	"json4k": func(p string, i int) string {
		return raw("POST", p+"/api/orders", "application/json", order(i))
	},
	"attack": func(p string, i int) string {
		return raw("GET", p+"/search?q="+url.QueryEscape(fmt.Sprintf("%d' UNION SELECT password FROM users WHERE id=%d--", i, i)), "", "")
	},
	// form64k is one form field of nearly the most the default profile
	// inspects (64KiB with the header), of text that keeps many rules'
	// expressions busy.
	"form64k": func(p string, i int) string {
		return raw("POST", p+"/comment", "application/x-www-form-urlencoded", "f="+fill(busyText(i), 63<<10))
	},
	// fields is as many form fields as the default limits allow, with
	// the bytes they allow shared among them: the worst case of those
	// measured. attacks is the same with fields that match many rules
	// each (a match costs more than a miss: the rule's actions, message
	// and captures), cookies the fields as cookies, headers as header
	// fields.
	"fields": func(p string, i int) string {
		return raw("POST", p+"/comment", "application/x-www-form-urlencoded", many(worstValues, "f%d="+verbatim(fill(busyText(i), worstValueBytes)), "&"))
	},
	"attacks": func(p string, i int) string {
		return raw("POST", p+"/comment", "application/x-www-form-urlencoded", many(worstValues, "f%d="+verbatim(fill(attackText(i), worstValueBytes)), "&"))
	},
	// oneattack is fields with one of them an attack's: the rules that
	// match it read every value twice, once in the gate (gate.go), up to
	// the attack, and once in Coraza.
	"oneattack": func(p string, i int) string {
		return raw("POST", p+"/comment", "application/x-www-form-urlencoded",
			many(worstValues-1, "f%d="+verbatim(fill(busyText(i), worstValueBytes)), "&")+"&a="+fill(attackText(i), worstValueBytes))
	},
	"cookies": func(p string, i int) string {
		v := strings.ReplaceAll(fill(busyText(i), worstValueBytes), ";", ",")
		return withHeader(raw("GET", p+"/account", "", ""), "Cookie: "+many(worstValues, "c%d="+verbatim(v), "; "))
	},
	"headers": func(p string, i int) string {
		return withHeader(raw("GET", p+"/account", "", ""), many(worstValues, "X-Field-%d: "+verbatim(fill(busyText(i), worstValueBytes)), "\r\n"))
	},
	// form128k is the field that costs stock Coraza seconds: refused for
	// its size before any rule reads it.
	"form128k": func(p string, i int) string {
		return raw("POST", p+"/comment", "application/x-www-form-urlencoded", "f="+strings.Repeat(fmt.Sprintf("hello world %d ", i%10), 128<<10/14))
	},
}

// BenchmarkInspect is the request phases of the WAF at paranoia levels 1
// and 2, with go test ./waf -run '^$' -bench Inspect -benchmem. Beside the
// wall time it reports the process's CPU time per request (cpu-ns/op),
// which the load of other processes disturbs less.
func BenchmarkInspect(b *testing.B) {
	for _, level := range []string{"pl1", "pl2"} {
		prefix := ""
		if level == "pl2" {
			prefix = "/pl2"
		}
		h := sharedRoute(b, benchProfiles, prefix+"/").Handlers[0]
		for _, name := range []string{"get", "json4k", "attack", "form64k", "fields", "attacks", "oneattack", "cookies", "headers", "form128k"} {
			reqs := make([]string, variants)
			for i := range reqs {
				reqs[i] = benchRequests[name](prefix, i)
			}
			b.Run(level+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				cpu := cpuTime()
				for b.Loop() {
					req := plugintest.Parse(b, reqs[i%variants])
					i++
					err := h.HandleRequest(b.Context(), req)
					var rej *plugins.Reject
					errors.As(err, &rej)
					switch {
					case name == "attack" && (rej == nil || rej.Status != 403):
						b.Fatalf("got %v, want 403", err)
					case name == "form128k" && (rej == nil || rej.Status != 413):
						b.Fatalf("got %v, want 413", err)
					case name != "get" && name != "json4k" && name != "attack" && name != "form128k" && err != nil && (rej == nil || rej.Status != 403):
						// Its text trips rules at paranoia level 2,
						// which block once every rule has read it.
						b.Fatalf("got %v, want it inspected whole", err)
					case (name == "get" || name == "json4k") && err != nil:
						b.Fatalf("got %v, want the request passed", err)
					}
				}
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
