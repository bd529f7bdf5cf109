package waf

import (
	"encoding/xml"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/types"
)

// TestFuseKeepsLines checks that every rule of the CRS written anew has
// the file and line it has in the CRS as shipped, and counts the rules
// written anew.
func TestFuseKeepsLines(t *testing.T) {
	where := func(stock bool) map[int]string {
		out := map[int]string{}
		registerOperators()
		cfg := coraza.NewWAFConfig().WithRootFS(rootFS{stock: stock}).
			WithDirectives("Include @coraza.conf-recommended\nInclude @crs-setup.conf.example\nInclude @owasp_crs/*.conf")
		cfg = experimental.WAFConfigWithRuleObserver(cfg, func(r types.RuleMetadata) {
			out[r.ID()] = fmt.Sprintf("%s:%d", r.File(), r.Line())
		})
		if _, err := coraza.NewWAF(cfg); err != nil {
			t.Fatal(err)
		}
		return out
	}
	stock, fused := where(true), where(false)
	if len(stock) < 500 || !maps.Equal(stock, fused) {
		for id, w := range stock {
			if fused[id] != w {
				t.Errorf("rule %d: at %s written anew, %s as shipped", id, fused[id], w)
			}
		}
		t.Fatalf("%d rules as shipped, %d written anew", len(stock), len(fused))
	}
	files, err := fs.Glob(coreruleset.FS, "@owasp_crs/*.conf")
	if err != nil || len(files) < 20 {
		t.Fatalf("got %d CRS files: %v", len(files), err)
	}
	n := 0
	for _, f := range files {
		b, err := fusedCRS(f)
		if err != nil {
			t.Fatal(err)
		}
		n += strings.Count(string(b), "@transformed")
	}
	// The CRS v4.25 has 156 such rules; a new release may have a few
	// more or fewer, but not none.
	if n < 100 {
		t.Fatalf("%d rules written anew, want the CRS's rules with transformations", n)
	}
	t.Logf("%d rules written anew, each at its line", n)
}

// TestUpdatesTransformations checks which profiles read the CRS as
// shipped: those whose directives, or the files they Include, add
// transformations or multiMatch to a rule.
func TestUpdatesTransformations(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	upd := write("upd.conf", `SecRuleUpdateActionById 941100 "t:none"`+"\n")
	nested := write("nested.conf", "Include "+upd+"\n")
	plain := write("plain.conf", `SecRuleUpdateActionById 941100 "nolog"`+"\n")
	for _, tc := range []struct {
		text string
		want bool
	}{
		{`SecRuleUpdateActionById 941100 "t:none,t:lowercase"`, true},
		{`SecRuleUpdateActionById 941100 "multiMatch"`, true},
		{"SecRuleUpdateActionById 941100 \\\n  \"T:lowercase\"", true},
		{"Include " + upd, true},
		{"Include " + nested, true},
		{"Include " + filepath.Join(dir, "*.conf"), true},
		{"Include " + filepath.Join(dir, "missing.conf"), true},
		{`SecRuleUpdateActionById 941100 "nolog"`, false},
		{"Include " + plain, false},
		{"Include @owasp_crs/*.conf", false},
		{`SecRule ARGS "@rx a" "id:99001,t:none,t:lowercase,pass"`, false},
	} {
		if got := updatesTransformations([]chunk{{text: tc.text, field: "rules[0]"}}); got != tc.want {
			t.Errorf("%q: got %v, want %v", tc.text, got, tc.want)
		}
	}

	// Such a profile matches as the CRS as shipped does: multiMatch
	// added to 941100, through an Include, has it match the value as
	// sent and as decoded.
	multi := write("multi.conf", `SecRuleUpdateActionById 941100 "multiMatch"`+"\n")
	base := []chunk{{text: "Include @coraza.conf-recommended\nSecRuleEngine DetectionOnly\nInclude @crs-setup.conf.example\nInclude @owasp_crs/*.conf"}}
	w, err := newWAF(append(base, chunk{text: "Include " + multi, field: "rules[0]"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range runValues(t, w, "query", []string{"<script>alert(1)</script>%41"}, false) {
		if strings.HasPrefix(l, "941100 ") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("941100 matched %d values with multiMatch added, want 2 (as shipped)", n)
	}
}

// TestFuseRule checks which rules are written anew, and how.
func TestFuseRule(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"rx", `ARGS "@rx a\"b" "id:1,phase:2,block,t:none,t:urlDecodeUni,t:lowercase,msg:'x, y',capture"`,
			`ARGS "@transformed urlDecodeUni,lowercase rx a\"b" "id:1,phase:2,block,t:none,msg:'x, y',capture"`},
		{"negated", `ARGS "!@rx ^\d+$" "id:2,t:none,t:lowercase,pass"`,
			`ARGS "!@transformed lowercase rx ^\d+$" "id:2,t:none,pass"`},
		{"none again", `ARGS "@rx a" "id:3,t:none,t:lowercase,t:none,t:removeNulls"`,
			`ARGS "@transformed removeNulls rx a" "id:3,t:none"`},
		{"None, which clears nothing", `ARGS "@rx a" "id:3,t:none,t:lowercase,t:None"`, ""},
		{"no transformation", `ARGS "@rx a" "id:4,t:none"`, ""},
		{"default transformations", `ARGS "@rx a" "id:5,t:lowercase"`, ""},
		{"chain", `ARGS "@rx a" "id:6,t:none,t:lowercase,chain"`, ""},
		{"multiMatch", `ARGS "@rx a" "id:7,t:none,t:lowercase,multiMatch"`, ""},
		{"pm", `ARGS "@pm a b" "id:8,t:none,t:lowercase"`, `ARGS "@transformed lowercase pm a b" "id:8,t:none"`},
		{"no arguments", `ARGS "@detectXSS" "id:8,t:none,t:lowercase"`, `ARGS "@transformed lowercase detectXSS" "id:8,t:none"`},
		{"other operator", `ARGS "@within %{tx.a}" "id:8,t:none,t:lowercase"`, ""},
		{"unknown transformation", `ARGS "@rx a" "id:9,t:none,t:md5"`, ""},
		{"quoted comma", `ARGS "@rx a" "id:10,t:none,msg:'t:lowercase, not one',t:lowercase"`,
			`ARGS "@transformed lowercase rx a" "id:10,t:none,msg:'t:lowercase, not one'"`},
		{"no actions", `ARGS "@rx a"`, ""},
	} {
		got, _ := fuseRule(tc.in, true)
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	for raw, want := range map[string]bool{
		`SecRule ARGS "@transformed lowercase rx a" "id:1,capture"`:  true,
		`SecRule ARGS "!@pm a b" "id:1,capture"`:                     true,
		`SecRule ARGS "@transformed lowercase detectXSS " "capture"`: false,
		`SecRule ARGS "@contains a" "id:1,capture"`:                  false,
		`SecRule ARGS "@rx a" "id:1"`:                                false,
	} {
		if capturing(raw) != want {
			t.Errorf("capturing(%s) = %v", raw, !want)
		}
	}
	// The rule after a chain's start is in the chain.
	in := "SecRule ARGS \"@rx a\" \"id:1,t:none,t:lowercase,chain\"\n" +
		"SecRule MATCHED_VARS \"@rx b\" \\\n  \"t:none,t:lowercase\"\n" +
		"SecRule ARGS \"@rx c\" \\\n  \"id:2,t:none,t:lowercase\"\n"
	want := "SecRule ARGS \"@rx a\" \"id:1,t:none,t:lowercase,chain\"\n" +
		"SecRule MATCHED_VARS \"@rx b\" \\\n  \"t:none,t:lowercase\"\n" +
		"\nSecRule ARGS \"@transformed lowercase rx c\" \"id:2,t:none\"\n"
	if got := fuse(in); got != want {
		t.Errorf("chain:\n got %q\nwant %q", got, want)
	}
}

// TestFusedMatchesStock runs the CRS as written anew and the CRS as
// shipped, at paranoia level 4 (every rule), on the values of the CRS's
// regression tests and benign ones. Forty at a time, each value is sent
// as a query argument and an argument's name, a header field, a cookie,
// a form field, a JSON string, an XML element, and a multipart part's
// file name and header: every rule that is not part of a chain must
// match the same variables, with the same message and captures, in both.
// A sample is sent alone, once as the path and once as the User-Agent and
// Referer, and once as a query argument with everything compared: every
// rule's matches, chains included, and the whole TX collection (captures,
// scores and every variable the rules set).
func TestFusedMatchesStock(t *testing.T) {
	values, err := crsValues()
	if err != nil {
		t.Fatal(err)
	}
	step := 1
	switch {
	case raceDetector:
		step = 29 // a sample; .ci/run runs them all without -race
	case testing.Short():
		step = 7
	}
	stock, fused := crsEngine(t, true), crsEngine(t, false)
	const batch = 40
	var sample []string
	for i := 0; i < len(values); i += step {
		sample = append(sample, values[i])
	}
	compare := func(where string, vs []string, all bool) int {
		want, got := runValues(t, stock, where, vs, all), runValues(t, fused, where, vs, all)
		if !slices.Equal(got, want) {
			for _, m := range diff(got, want) {
				t.Error(m)
			}
			t.Fatalf("%s: the CRS written anew and as shipped differ on %q", where, vs)
		}
		return len(want)
	}
	compared := 0
	for i := 0; i < len(sample); i += batch {
		vs := sample[i:min(i+batch, len(sample))]
		for _, where := range []string{"query", "names", "header", "cookie", "form", "json", "xml", "multipart"} {
			compared += compare(where, vs, false)
		}
	}
	alone := 0
	for i := 0; i < len(sample); i += 9 {
		for _, where := range []string{"path", "agent"} {
			compared += compare(where, sample[i:i+1], false)
		}
		compared += compare("query", sample[i:i+1], true)
		alone++
	}
	t.Logf("%d values, %d of them alone; %d matches compared", len(sample), alone, compared)
}

func crsEngine(t testing.TB, stock bool) coraza.WAF {
	t.Helper()
	w, err := crsEngineOf(stock)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func crsEngineOf(stock bool) (coraza.WAF, error) { return crsEngineGated(stock, !stock) }

// crsEngineGated is crsEngineOf with or without the gate.
func crsEngineGated(stock, gated bool) (coraza.WAF, error) {
	registerOperators()
	// As the gateway runs them: names that repeat get keys of their own
	// (distinct.go), and the CRS written anew runs with the gate
	// (gate.go).
	root := rootFS{stock: stock}
	if gated {
		root.gates = newGates(nil)
	}
	return coraza.NewWAF(coraza.NewWAFConfig().WithRootFS(root).WithDirectives(`
Include @coraza.conf-recommended
` + distinctKeysRules() + gateRules(4) + `
SecRuleEngine DetectionOnly
SecArgumentsLimit 2000
Include @crs-setup.conf.example
SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:'tx.blocking_paranoia_level=4'"
SecAction "id:900001,phase:1,pass,t:none,nolog,setvar:'tx.detection_paranoia_level=4'"
Include @owasp_crs/*.conf
`))
}

// runValues sends values in one request, each in its own part of the
// place where says, and returns what the rules matched: a line per rule
// and variable, with the match's message and its logdata but where it
// quotes MATCHED_VAR (the CRS written anew quotes the request's value
// where the CRS as shipped quotes it transformed). With all, the lines of
// chains too, and a line per variable of the TX collection.
func runValues(t *testing.T, w coraza.WAF, where string, values []string, all bool) []string {
	tx := w.NewTransaction()
	defer tx.Close()
	tx.ProcessConnection("127.0.0.1", 40000, "127.0.0.1", 80)
	target, ctype, agent := "/test", "", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	var body strings.Builder
	oneLine := strings.NewReplacer("\r", "", "\n", "", "\"", "", ";", "")
	q := url.Values{}
	var cookies []string
	for i, v := range values {
		key := fmt.Sprintf("v%d", i)
		switch where {
		case "query", "form":
			q.Set(key, v)
		case "names":
			q.Set(v, key)
		case "header":
			tx.AddRequestHeader("X-"+key, v)
		case "cookie":
			cookies = append(cookies, key+"="+oneLine.Replace(v))
		case "json":
			if i == 0 {
				body.WriteByte('{')
			} else {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, "%q:%q", key, strings.ToValidUTF8(v, "?"))
		case "xml":
			if i == 0 {
				body.WriteString("<r>")
			}
			body.WriteString("<" + key + ">")
			_ = xml.EscapeText(&body, []byte(strings.ToValidUTF8(v, "?")))
			body.WriteString("</" + key + ">")
		case "multipart":
			fmt.Fprintf(&body, "--b0undary\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\nX-Part-%d: %s\r\n\r\ndata\r\n",
				key, oneLine.Replace(v), i, oneLine.Replace(v))
		case "path":
			target = "/" + url.PathEscape(v)
		case "agent":
			agent = v
			tx.AddRequestHeader("Referer", v)
		}
	}
	switch where {
	case "cookie":
		// One Cookie header: a name that repeats in a collection is the
		// case Coraza's transformation cache reads unreliably (see
		// TestRepeatedNames), and this test compares with it.
		tx.AddRequestHeader("Cookie", strings.Join(cookies, "; "))
	case "query":
		target += "?" + q.Encode()
	case "names":
		target += "?" + q.Encode()
	case "form":
		body.WriteString(q.Encode())
		ctype = "application/x-www-form-urlencoded"
	case "json":
		body.WriteByte('}')
		ctype = "application/json"
	case "xml":
		body.WriteString("</r>")
		ctype = "application/xml"
	case "multipart":
		body.WriteString("--b0undary--\r\n")
		ctype = "multipart/form-data; boundary=b0undary"
	}
	tx.ProcessURI(target, "POST", "HTTP/1.1")
	tx.AddRequestHeader("Host", "shop.example.com")
	tx.AddRequestHeader("User-Agent", agent)
	tx.AddRequestHeader("Accept", "*/*")
	if ctype != "" {
		tx.AddRequestHeader("Content-Type", ctype)
		tx.AddRequestHeader("Content-Length", fmt.Sprint(body.Len()))
	}
	tx.ProcessRequestHeaders()
	if body.Len() > 0 {
		if _, _, err := tx.WriteRequestBody([]byte(body.String())); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.ProcessRequestBody(); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range tx.MatchedRules() {
		out = append(out, matchLines(m, all)...)
	}
	if all {
		for _, d := range state(tx).Variables().TX().FindAll() {
			if len(d.Key()) == 1 && d.Key()[0] >= '0' && d.Key()[0] <= '9' {
				// A capture: which value of a header or argument
				// was captured last depends on the order Coraza
				// reads the collection in, in either engine.
				continue
			}
			out = append(out, fmt.Sprintf("TX:%s = %q", d.Key(), d.Value()))
		}
	}
	// Coraza reads a collection's values in no set order.
	slices.Sort(out)
	return out
}

func matchLines(m types.MatchedRule, all bool) []string {
	if strings.Contains(m.Rule().Raw(), "\n") && !all {
		// A chain (Coraza joins its rules' text with newlines): not
		// written anew, and whether it matches can depend on the
		// order Coraza reads a collection's values in (942130
		// compares the captures of the last value its first rule
		// matched), as can the anomaly score it adds to.
		return nil
	}
	if len(m.MatchedDatas()) == 0 {
		return []string{fmt.Sprintf("%d %q", m.Rule().ID(), m.Message())}
	}
	var out []string
	for _, d := range m.MatchedDatas() {
		data, msg, v := d.Data(), d.Message(), d.Value()
		if !all {
			msg = totalScore.ReplaceAllString(msg, "Total Score: n")
		}
		switch {
		case data == v:
			data = "<value>"
		case strings.HasSuffix(data, ": "+v) || strings.HasSuffix(data, "="+v):
			data = data[:len(data)-len(v)] + "<value>"
		}
		if !capturing(m.Rule().Raw()) {
			// TX.0 in its data is what another rule captured last.
			data = ""
		}
		if strings.Contains(m.Rule().Raw(), "%{MATCHED_VAR} found within") {
			data = strings.Replace(data, "Matched Data: "+v+" ", "Matched Data: <value> ", 1)
		}
		out = append(out, fmt.Sprintf("%d %s:%s %q %q", m.Rule().ID(), d.Variable().Name(), d.Key(), msg, data))
	}
	return out
}

// capturing reports whether a rule sets TX.0: it says capture and its
// operator (or @transformed's) is one that captures.
func capturing(raw string) bool {
	m := ruleOperator.FindStringSubmatch(raw)
	return strings.Contains(raw, "capture") && m != nil && slices.Contains([]string{"rx", "pm", "pmFromFile", "pmf", "detectSQLi"}, m[1])
}

var ruleOperator = regexp.MustCompile(`^\S+ \S+ "!?@(?:transformed (?:#\d+ )?\S+ )?(\w+)`)

// totalScore is the anomaly score in the messages of the blocking and
// reporting rules, which the chains matched add to.
var totalScore = regexp.MustCompile(`Total Score: \d+`)

// diff lists the lines of got and want that the other lacks, or holds
// fewer times.
func diff(got, want []string) []string {
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	for _, w := range want {
		count[w]--
	}
	var out []string
	for l, n := range count {
		switch {
		case n > 0:
			out = append(out, fmt.Sprintf("%d more written anew: %s", n, l))
		case n < 0:
			out = append(out, fmt.Sprintf("%d more as shipped: %s", -n, l))
		}
	}
	slices.Sort(out)
	return out
}

// fuse is fuseFile's text.
func fuse(src string) string { return string(fuseFile(src).text) }
