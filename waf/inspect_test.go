package waf_test

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// browser is the header of a usual browser or API client request.
func browser(extra ...string) http.Header {
	h := http.Header{
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
		"Accept":          {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		"Accept-Language": {"en-GB,en;q=0.5"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return h
}

// form is a POST of an urlencoded form.
func form(target, body string) plugintest.Exchange {
	return plugintest.Exchange{Method: "POST", Target: target, Body: body,
		Header: browser("Content-Type", "application/x-www-form-urlencoded")}
}

// jsonPost is a POST of a JSON body.
func jsonPost(target, body string) plugintest.Exchange {
	return plugintest.Exchange{Method: "POST", Target: target, Body: body,
		Header: browser("Content-Type", "application/json", "Accept", "application/json")}
}

// upload is a POST of a multipart form with the given fields and one file.
func upload(target string, fields map[string]string, file, content string) plugintest.Exchange {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if file != "" {
		f, _ := w.CreateFormFile("file", file)
		f.Write([]byte(content))
	}
	w.Close()
	return plugintest.Exchange{Method: "POST", Target: target, Body: b.String(),
		Header: browser("Content-Type", w.FormDataContentType())}
}

func get(target string) plugintest.Exchange {
	return plugintest.Exchange{Target: target, Header: browser()}
}

// attacks are requests the default profile blocks: one of each kind of
// attack the CRS knows at paranoia level 1, in each part of a request.
var attacks = []struct {
	name string
	ex   plugintest.Exchange
}{
	{"xss in query", get("/?q=" + url.QueryEscape("<script>alert(1)</script>"))},
	{"sqli in query", get("/items?id=" + url.QueryEscape("1' UNION SELECT username, password FROM users--"))},
	{"path traversal in query", get("/download?file=" + url.QueryEscape("../../../../etc/passwd"))},
	{"rce in query", get("/ping?host=" + url.QueryEscape("127.0.0.1; cat /etc/passwd"))},
	{"sqli in form", form("/login", "user="+url.QueryEscape("admin' OR 1=1-- ")+"&pass=x")},
	{"xss in json", jsonPost("/api/comments", `{"post": 7, "comment": "<script>alert(document.cookie)</script>"}`)},
	{"rce in json", jsonPost("/api/hosts", `{"host": "example.com; /bin/bash -c 'cat /etc/shadow'"}`)},
	{"sqli in multipart", upload("/search", map[string]string{"q": "1 UNION ALL SELECT password FROM users WHERE 1=1"}, "", "")},
	{"php in upload name", upload("/upload", nil, "shell.php", "<?php system($_GET['c']); ?>")},
}

// benign are requests of ordinary sites and APIs that the default profile
// lets through.
var benign = []struct {
	name string
	ex   plugintest.Exchange
}{
	{"page", get("/products/shoes/running?page=2&sort=price")},
	{"search", get("/search?q=" + url.QueryEscape("red running shoes size 42, women's"))},
	{"json api", jsonPost("/api/orders", `{"customer": {"name": "Jane Doe", "email": "jane@example.com"},
		"items": [{"sku": "SH-42-RED", "qty": 1, "price": 89.90}, {"sku": "SOCK-3", "qty": 3, "price": 4.5}],
		"note": "Please leave the parcel at the door.", "gift": false}`)},
	{"form", form("/contact", "name=Jane+Doe&email=jane%40example.com&message="+url.QueryEscape("Hello, could you send me a quote for 20 chairs? Thanks."))},
	{"upload", upload("/upload", map[string]string{"title": "Holiday photo"}, "beach.jpg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00binary image data")},
}

// TestAttacksBlocked checks every attack over HTTP/1.1, HTTP/2 and HTTP/3:
// the default profile refuses it with 403 and names the rules.
func TestAttacksBlocked(t *testing.T) {
	h := shared(t, routesFile("", "default")).Handlers[0]
	for _, proto := range plugintest.Protocols {
		for _, tt := range attacks {
			t.Run(proto+"/"+tt.name, func(t *testing.T) {
				o := plugintest.Run(t, proto, h, tt.ex)
				var rej *plugins.Reject
				if !errors.As(o.Err, &rej) || rej.Status != http.StatusForbidden || !strings.HasPrefix(rej.Details, "waf_blocked{") {
					t.Fatalf("got %v, want 403 waf_blocked", o.Err)
				}
			})
		}
	}
}

// TestBenignPasses checks every benign request over the three protocols:
// the default profile lets it through, and the upstream gets the body the
// client sent.
func TestBenignPasses(t *testing.T) {
	h := shared(t, routesFile("", "default")).Handlers[0]
	for _, proto := range plugintest.Protocols {
		for _, tt := range benign {
			t.Run(proto+"/"+tt.name, func(t *testing.T) {
				o := plugintest.Run(t, proto, h, tt.ex)
				if o.Err != nil {
					t.Fatalf("got %v, want the request passed", o.Err)
				}
				if o.Body != tt.ex.Body {
					t.Errorf("got body %q forwarded, want %q", o.Body, tt.ex.Body)
				}
			})
		}
	}
}

// TestRedirectAction: a rule whose action redirects gets a 302 to its
// target, and keeps the answer's Content-Type and Cache-Control: a
// redirect that a cache stored would send every later visitor away.
func TestRedirectAction(t *testing.T) {
	section := `  profiles:
    away:
      rules: ['SecRule ARGS:go "@streq away" "id:10002,phase:1,redirect:https://www.example.com/blocked,log"']
`
	h := shared(t, routesFile(section, "away")).Handlers[0]
	o := plugintest.Run(t, "HTTP/1.1", h, get("/?go=away"))
	var rej *plugins.Reject
	if !errors.As(o.Err, &rej) {
		t.Fatalf("got %v, want a redirect", o.Err)
	}
	if rej.Status != http.StatusFound || rej.Header.Get("Location") != "https://www.example.com/blocked" ||
		rej.Header.Get("Cache-Control") != "no-store" || rej.Header.Get("Content-Type") == "" {
		t.Errorf("got %d with header %v; want 302 to the rule's target, no-store and the body's type", rej.Status, rej.Header)
	}
}
