package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

const wafUsage = `usage:
  portcullis waf test [--config FILE] [--profile NAME] [-H 'Name: value']... [--data BODY|@FILE] [--json] 'METHOD TARGET'
  portcullis waf test [--config FILE] [--profile NAME] [--json] --request FILE
      run one request through a WAF profile, without a running gateway, and print the
      verdict, the anomaly score and every rule that matched with the variable and value
      it matched. TARGET is a path with its query (/search?q=...) or an absolute URL.
      A request given as 'METHOD TARGET' gets Host: localhost, User-Agent: curl/8.0 and
      Accept: */* unless -H sets them, as curl would send it; --request reads a whole
      HTTP/1.1 request, exactly as written, from FILE (- for standard input).
      --config names the routes file whose waf block holds the profile (default: the
      built-in default profile, the CRS at paranoia level 1, blocking).
      Exit status: 0 when the request passes (detect mode included), 1 when it is
      refused, 2 for a command line, file or request that is wrong.
`

func wafTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("waf test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, wafUsage) }
	config := fs.String("config", "", "routes file whose waf block holds the profile")
	profile := fs.String("profile", "default", "the profile to run")
	data := fs.String("data", "", "request body, or @FILE for a file's contents")
	reqFile := fs.String("request", "", "a whole HTTP/1.1 request, from FILE or - for standard input")
	asJSON := fs.Bool("json", false, "print the verdict as JSON")
	var headers stringList
	fs.Var(&headers, "H", "a request header, 'Name: value' (may be repeated)")
	fs.Var(&headers, "header", "same as -H")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "portcullis waf test: "+format+"\n", a...)
		return 2
	}
	var r *http.Request
	var err error
	switch {
	case *reqFile != "" && (fs.NArg() > 0 || len(headers) > 0 || *data != ""):
		return fail("--request takes the whole request: give no request line, -H or --data with it")
	case *reqFile != "":
		r, err = readRequestFile(*reqFile)
	case fs.NArg() == 0:
		return fail("no request: give 'METHOD TARGET' or --request FILE")
	default:
		r, err = buildRequest(fs.Args(), headers, *data)
	}
	if err != nil {
		return fail("%v", err)
	}
	section, paths, err := wafConfig(*config)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	plugin := waf.New(waf.Options{})
	h, err := plugin.Explainer(section, *profile)
	if err != nil {
		return fail("%v", err)
	}
	defer h.Close()
	req, err := wafRequest(r, paths)
	if err != nil {
		return fail("%v", err)
	}
	v, err := h.Explain(req)
	if err != nil {
		return fail("inspecting the request: %v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(verdictJSON(v))
	} else {
		printVerdict(stdout, r, v)
	}
	if v.Passed() {
		return 0
	}
	return 1
}

// wafConfig loads the routes file's waf block (nil for the built-in
// default profile, when no file is named or it has no waf block) and its
// path normalisation.
func wafConfig(path string) (*waf.Section, routes.PathOptions, error) {
	if path == "" {
		return nil, routes.PathOptions{}, nil
	}
	reg, err := registry(waf.New(waf.Options{}), authz.New(nil))
	if err != nil {
		return nil, routes.PathOptions{}, err
	}
	cfg, err := routes.Load(path, reg)
	if err != nil {
		var errs routes.Errors
		if errors.As(err, &errs) {
			lines := make([]string, len(errs))
			for i, e := range errs {
				lines[i] = e.Error()
			}
			return nil, routes.PathOptions{}, errors.New(strings.Join(lines, "\n"))
		}
		return nil, routes.PathOptions{}, err
	}
	defer cfg.Close()
	s, _ := cfg.File.Sections["waf"].(*waf.Section)
	return s, cfg.File.Paths, nil
}

// buildRequest builds the request of a 'METHOD TARGET' command line, with
// curl's headers unless headers set them.
func buildRequest(line []string, headers []string, data string) (*http.Request, error) {
	words := line
	if len(line) == 1 {
		words = strings.Fields(line[0])
	}
	var method, target string
	switch len(words) {
	case 1:
		method, target = http.MethodGet, words[0]
	case 2:
		method, target = words[0], words[1]
	default:
		return nil, fmt.Errorf("want 'METHOD TARGET', got %q", strings.Join(line, " "))
	}
	var body []byte
	if strings.HasPrefix(data, "@") {
		b, err := os.ReadFile(data[1:])
		if err != nil {
			return nil, err
		}
		body = b
	} else {
		body = []byte(data)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, target)
	set := make(map[string]bool)
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("header %q: want 'Name: value'", h)
		}
		set[http.CanonicalHeaderKey(strings.TrimSpace(name))] = true
		fmt.Fprintf(&b, "%s: %s\r\n", strings.TrimSpace(name), strings.TrimSpace(value))
	}
	for _, d := range [][2]string{{"Host", "localhost"}, {"User-Agent", "curl/8.0"}, {"Accept", "*/*"}} {
		if !set[d[0]] {
			fmt.Fprintf(&b, "%s: %s\r\n", d[0], d[1])
		}
	}
	if len(body) > 0 {
		if !set["Content-Type"] {
			b.WriteString("Content-Type: application/x-www-form-urlencoded\r\n")
		}
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(b.String())))
	if err != nil {
		return nil, fmt.Errorf("the request does not parse: %v", err)
	}
	return r, nil
}

// readRequestFile reads a whole HTTP/1.1 request from path, or standard
// input for "-". Bare LF line ends are taken as CRLF, as a file written by
// hand has them.
func readRequestFile(path string) (*http.Request, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	head, body, found := strings.Cut(string(raw), "\n\n")
	if !strings.Contains(head, "\r\n") && found {
		raw = []byte(strings.ReplaceAll(head, "\n", "\r\n") + "\r\n\r\n" + body)
	}
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(raw))))
	if err != nil {
		return nil, fmt.Errorf("%s: the request does not parse: %v", path, err)
	}
	return r, nil
}

// wafRequest is the view of r that the gateway gives the WAF: the path
// normalised as the routes file says, from a client on loopback.
func wafRequest(r *http.Request, opts routes.PathOptions) (*plugins.Request, error) {
	if r.URL.IsAbs() && r.Host == "" {
		r.Host = r.URL.Host
	}
	escaped := r.URL.EscapedPath()
	if escaped == "" {
		escaped = "/"
	}
	path, err := routes.NormalizePath(escaped, opts)
	if err != nil {
		return nil, fmt.Errorf("the gateway refuses the path %q before the WAF sees it (400): %v", escaped, err)
	}
	query, err := routes.NormalizeQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("the gateway refuses the query before the WAF sees it (400): %v", err)
	}
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	r.RemoteAddr = peer.String()
	v := new(plugins.StdRequest)
	v.Reset(r)
	v.SetTarget(path, query)
	req := &plugins.Request{RequestView: v, ID: r.Header.Get("X-Request-Id")}
	req.Peer, req.Client = peer, peer.Addr()
	return req, nil
}

// printVerdict writes v as a person reads it.
func printVerdict(w io.Writer, r *http.Request, v *waf.Verdict) {
	fmt.Fprintf(w, "%s %s %s\n", r.Method, r.URL.RequestURI(), r.Proto)
	promoted := ""
	if v.Promoted > 0 {
		promoted = fmt.Sprintf(" and %d promoted rules", v.Promoted)
	}
	fmt.Fprintf(w, "profile %s (mode %s, paranoia level %d%s): %s", v.Profile, v.Mode, v.Paranoia, promoted, v.Outcome())
	if v.Status != 0 {
		fmt.Fprintf(w, ", %d", v.Status)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "inbound anomaly score %d (threshold %d)\n", v.InboundScore, v.InboundThreshold)
	if v.Details != "" {
		fmt.Fprintf(w, "details: %s\n", v.Details)
	}
	if len(v.Rules) == 0 {
		fmt.Fprintln(w, "no rule matched")
		return
	}
	fmt.Fprintln(w, "rules matched:")
	for _, m := range v.Rules {
		sev := ""
		if m.Severity != "" {
			sev = " " + m.Severity
		}
		fmt.Fprintf(w, "  %d%s: %s\n", m.ID, sev, m.Message)
		for _, d := range m.Matches {
			fmt.Fprintf(w, "      %s = %s\n", d.Variable, quoteShort(d.Value, 120))
		}
	}
}

// quoteShort quotes s, cut to at most n bytes with the number of bytes
// left out.
func quoteShort(s string, n int) string {
	if len(s) <= n {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:n]) + fmt.Sprintf(" (+%d bytes)", len(s)-n)
}

// verdictJSON is v with stable lower-case field names.
func verdictJSON(v *waf.Verdict) any {
	type match struct {
		Variable string `json:"variable"`
		Value    string `json:"value"`
	}
	type rule struct {
		ID       int     `json:"id"`
		Severity string  `json:"severity"`
		Message  string  `json:"message"`
		Matches  []match `json:"matches"`
	}
	out := struct {
		Profile          string `json:"profile"`
		Mode             string `json:"mode"`
		Outcome          string `json:"outcome"`
		Status           int    `json:"status,omitempty"`
		Details          string `json:"details,omitempty"`
		Paranoia         int    `json:"paranoia_level"`
		Promoted         int    `json:"promoted_rules"`
		InboundScore     int    `json:"inbound_anomaly_score"`
		InboundThreshold int    `json:"inbound_threshold"`
		Rules            []rule `json:"rules"`
	}{v.Profile, v.Mode, v.Outcome(), v.Status, v.Details, v.Paranoia, v.Promoted, v.InboundScore, v.InboundThreshold, []rule{}}
	for _, m := range v.Rules {
		r := rule{ID: m.ID, Severity: m.Severity, Message: m.Message, Matches: []match{}}
		for _, d := range m.Matches {
			r.Matches = append(r.Matches, match{d.Variable, d.Value})
		}
		out.Rules = append(out.Rules, r)
	}
	return out
}
