package waf

import (
	"slices"
	"testing"

	"github.com/corazawaf/coraza/v3"
)

// gateEngine builds the CRS at paranoia level 1, with the gate's rules
// (gated) or without, and the profile's own directives: before, between
// the CRS's setup and its rules, and after them.
func gateEngine(t *testing.T, gated bool, before, after string) coraza.WAF {
	t.Helper()
	registerOperators()
	gate := ""
	if gated {
		gate = gateRules(1)
	}
	ch := []chunk{{text: "Include @coraza.conf-recommended\nSecRuleEngine DetectionOnly\n" + gate + "Include @crs-setup.conf.example"}}
	if before != "" {
		ch = append(ch, chunk{text: before, field: "rules_before_crs[0]"})
	}
	ch = append(ch, chunk{text: "Include @owasp_crs/*.conf"})
	if after != "" {
		ch = append(ch, chunk{text: after, field: "rules[0]"})
	}
	w, err := newWAF(ch, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// sendGET sends a GET with query and, unless empty, an X-Foo header, and
// returns the ids of the rules that matched.
func sendGET(t *testing.T, w coraza.WAF, header, query string) []int {
	t.Helper()
	var h [][2]string
	if header != "" {
		h = append(h, [2]string{"X-Foo", header})
	}
	return sendGETWith(t, w, h, query)
}

// sendGETWith is sendGET with header fields of any names, after the
// browser's own.
func sendGETWith(t *testing.T, w coraza.WAF, header [][2]string, query string) []int {
	t.Helper()
	tx := w.NewTransaction()
	defer tx.Close()
	tx.ProcessConnection("127.0.0.1", 40000, "127.0.0.1", 80)
	tx.ProcessURI("/search?"+query, "GET", "HTTP/1.1")
	tx.AddRequestHeader("Host", "shop.example.com")
	tx.AddRequestHeader("User-Agent", "Mozilla/5.0")
	tx.AddRequestHeader("Accept", "*/*")
	for _, f := range header {
		tx.AddRequestHeader(f[0], f[1])
	}
	tx.ProcessRequestHeaders()
	if _, err := tx.ProcessRequestBody(); err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, m := range tx.MatchedRules() {
		ids = append(ids, m.Rule().ID())
	}
	return ids
}

// gateProfileRun sends a GET through the CRS with the profile's own
// directives extra after it, with the gate or without.
func gateProfileRun(t *testing.T, gated bool, extra, header, query string) []int {
	t.Helper()
	return sendGET(t, gateEngine(t, gated, "", extra), header, query)
}

// TestGateProfileDirectives sends attacks through profiles whose own
// directives Coraza reads as adding a target to a CRS rule, or as a rule
// of the profile's own under a CRS rule's id, spelled in ways a reading
// of the text could miss: the rule must match with the gate as without
// it.
func TestGateProfileDirectives(t *testing.T) {
	xss := "<script>alert(1)</script>"
	for _, tc := range []struct {
		name, extra, header string
		id                  int
	}{
		// Coraza's variable parser drops the byte after a regular
		// expression's closing slash, so a target follows an exclusion
		// without a '|'.
		{"target after a regex exclusion", `SecRuleUpdateTargetById 941100 "!ARGS:/a/,REQUEST_HEADERS:X-Foo"`, xss, 941100},
		// Coraza joins a line that ends in '\' to the next with nothing
		// between them.
		{"directive name across lines", "SecRuleUpdateTar\\\ngetById 941100 \"REQUEST_HEADERS:X-Foo\"", xss, 941100},
		// strconv.Atoi, which Coraza's id action runs, takes a sign.
		{"own rule, id with a sign", "SecRuleRemoveByTag attack-xss\n" + `SecRule REQUEST_HEADERS:X-Foo "@rx evil" "id:+941110,phase:2,pass,log,t:none"`, "evil", 941110},
		{"own rule, id across lines", "SecRuleRemoveByTag attack-xss\n" + "SecRule REQUEST_HEADERS:X-Foo \"@rx evil\" \"id:\\\n941110,phase:2,pass,log,t:none\"", "evil", 941110},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if slices.Contains(gateProfileRun(t, false, "", tc.header, "q=shoes"), tc.id) {
				t.Fatalf("%d matches without the profile's directives: the case is wrong", tc.id)
			}
			plain := gateProfileRun(t, false, tc.extra, tc.header, "q=shoes")
			if !slices.Contains(plain, tc.id) {
				t.Fatalf("without the gate, %d did not match (%v): the case is wrong", tc.id, plain)
			}
			if got := gateProfileRun(t, true, tc.extra, tc.header, "q=shoes"); !slices.Contains(got, tc.id) {
				t.Errorf("with the gate, %d did not match: %v", tc.id, got)
			}
		})
	}
}

// TestGateSkipAcrossLines runs a profile whose skip:113, written across
// two lines, reaches 941100 at paranoia level 1 once the rules the gate
// removes no longer count: the profile runs without the gate, and the
// attack matches the same rules as without it.
func TestGateSkipAcrossLines(t *testing.T) {
	query := "q=" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E"
	before := "SecAction \"id:10001,phase:2,pass,nolog,sk\\\nip:113\""
	if !gateUnsettled([]chunk{{text: before, field: "rules_before_crs[0]"}}) {
		t.Fatal("gateUnsettled did not see the skip")
	}
	run := func(gated bool) []int { return sendGET(t, gateEngine(t, gated, before, ""), "", query) }
	want, got := run(false), run(true)
	if !slices.Contains(want, 941100) || !slices.Equal(got, want) {
		t.Errorf("with the gate: %v\nwithout: %v", got, want)
	}
}

// TestGateHeaderNames sends an attack in header fields whose names the
// CRS's rules select (User-Agent, Referer) spelled in other cases, twice
// with a harmless value first, and beside names of bytes beyond ASCII: the
// gate, which compares a selected name without regard to case, must keep
// every rule Coraza matches.
func TestGateHeaderNames(t *testing.T) {
	gated, plain := gateEngine(t, true, "", ""), gateEngine(t, false, "", "")
	xss, sqli := "<script>alert(1)</script>", "1' or 1=1 union select password from users--"
	for _, h := range [][][2]string{
		{{"referer", xss}},
		{{"REFERER", "https://shop.example.com/"}, {"rEfErEr", xss}},
		{{"USER-AGENT", sqli}},
		{{"Us\u0435r-Agent", xss}, {"Referer\u212a", sqli}, {"REFERER", sqli}},
		{{"X-Filename", "../../etc/passwd"}, {"x_filename", "a.php"}, {"X.FILENAME", "<?php system('id');"}},
	} {
		want, got := sendGETWith(t, plain, h, "q=shoes"), sendGETWith(t, gated, h, "q=shoes")
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%q: with the gate %v, without %v", h, got, want)
		}
		if !slices.ContainsFunc(want, func(id int) bool { return id >= 930000 && id < 945000 && id%1000 >= 100 }) {
			t.Errorf("%q: no attack's rule matched (%v): the case sends no attack the rules see", h, want)
		}
	}
}
