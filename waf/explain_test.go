package waf_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
	"github.com/portcullis-gw/portcullis/waf"
)

// TestExplainAgreesWithTheGateway runs each request through a route's WAF
// handler, as the gateway does, and through Explain on the same profile:
// the verdict that `portcullis waf test` prints must be the one the
// gateway gives, down to the access log's details.
func TestExplainAgreesWithTheGateway(t *testing.T) {
	section := `  profiles:
    watch: { mode: detect }
`
	json := `{"q": "1' UNION SELECT password FROM users--"}`
	long := strings.Repeat("a", 70000)
	cases := []struct {
		profile, raw string
		outcome      string
		rule         int // a rule that must be among the matches, 0 for none
		variable     string
	}{
		{"default", "GET /hello HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n", "passed", 0, ""},
		{"default", "GET /?q=%3Cscript%3Ealert(1)%3C/script%3E HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n", "blocked", 941100, "ARGS:q"},
		{"default", "POST /api HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\nContent-Type: application/json\r\nContent-Length: " + itoa(len(json)) + "\r\n\r\n" + json, "blocked", 942100, "ARGS:json.q"},
		{"default", "POST /form HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + itoa(len(long)+2) + "\r\n\r\nf=" + long, "limited", 0, ""},
		{"watch", "GET /?q=%3Cscript%3Ealert(1)%3C/script%3E HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n", "detected", 941100, "ARGS:q"},
	}
	for _, tc := range cases {
		t.Run(tc.profile+"/"+tc.outcome, func(t *testing.T) {
			chain := shared(t, routesFile(section, tc.profile))
			err := chain.HandleRequest(context.Background(), plugintest.Parse(t, tc.raw))
			var rej *plugins.Reject
			if err != nil && !errors.As(err, &rej) {
				t.Fatalf("the gateway's handler: %v", err)
			}
			h, err := plugin.Explainer(sectionOf(t, routesFile(section, tc.profile)), tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			v, err := h.Explain(plugintest.Parse(t, tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Outcome(); got != tc.outcome {
				t.Errorf("outcome %s, want %s (details %s)", got, tc.outcome, v.Details)
			}
			switch {
			case rej == nil && v.Status != 0:
				t.Errorf("the gateway passes the request; Explain says %d %s", v.Status, v.Details)
			case rej != nil && (rej.Status != v.Status || rej.Details != v.Details):
				t.Errorf("the gateway answers %d %s; Explain says %d %s", rej.Status, rej.Details, v.Status, v.Details)
			}
			if tc.rule == 0 {
				if tc.outcome == "passed" && len(v.Rules) != 0 {
					t.Errorf("rules matched a passed request: %+v", v.Rules)
				}
				return
			}
			for _, m := range v.Rules {
				if m.ID != tc.rule {
					continue
				}
				for _, d := range m.Matches {
					if d.Variable == tc.variable && d.Value != "" {
						if m.Message == "" {
							t.Errorf("rule %d has no message", m.ID)
						}
						return
					}
				}
				t.Fatalf("rule %d matched %+v, want %s", m.ID, m.Matches, tc.variable)
			}
			t.Fatalf("rule %d is not among %+v", tc.rule, v.Rules)
		})
	}
}

// TestExplainerDefault builds the default profile with no routes file, and
// names the profiles there are when asked for one that is not.
func TestExplainerDefault(t *testing.T) {
	h, err := plugin.Explainer(nil, "default")
	if err != nil {
		t.Fatal(err)
	}
	v, err := h.Explain(plugintest.Parse(t, "GET /?id=1%20OR%201=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n"))
	h.Close()
	if err != nil || v.Status != 403 || v.Paranoia != 1 || v.InboundThreshold != 5 || v.InboundScore < 5 {
		t.Fatalf("got %+v, %v; want a 403 at paranoia level 1, threshold 5", v, err)
	}
	if _, err := plugin.Explainer(nil, "strict"); err == nil || !strings.Contains(err.Error(), `no profile "strict" (defined: default)`) {
		t.Fatalf("got %v, want the defined profiles named", err)
	}
}

// sectionOf is the waf block of a routes file that shared has loaded.
func sectionOf(t *testing.T, src string) *waf.Section {
	t.Helper()
	loadMu.Lock()
	defer loadMu.Unlock()
	s, _ := loaded[src].File.Sections["waf"].(*waf.Section)
	if s == nil {
		t.Fatal("the routes file has no waf block")
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }
