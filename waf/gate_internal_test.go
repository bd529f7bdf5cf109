package waf

import (
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/types/variables"
)

// TestReadGateVars checks what the gate reads of a rule's variables: a
// superset of what Coraza reads, or nothing.
func TestReadGateVars(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []gateVar // nil: the gate leaves the rule to Coraza
	}{
		{"ARGS", []gateVar{{variables.Args, ""}}},
		{"args|Request_Headers", []gateVar{{variables.Args, ""}, {variables.RequestHeaders, ""}}},
		{"REQUEST_HEADERS:User-Agent", []gateVar{{variables.RequestHeaders, "User-Agent"}}},
		// Exclusions are not taken off: the gate reads more.
		{"ARGS|!ARGS:password|!REQUEST_COOKIES:/__utm/", []gateVar{{variables.Args, ""}}},
		// A regular expression or a quoted key: the whole collection.
		{"REQUEST_COOKIES:/^sess/", []gateVar{{variables.RequestCookies, ""}}},
		{"XML:/*", []gateVar{{variables.XML, ""}}},
		{"ARGS:'a b'", []gateVar{{variables.Args, ""}}},
		{"ARGS:a%20b", []gateVar{{variables.Args, ""}}},
		// A '|' within a regular expression splits it into parts that
		// are not variables.
		{"ARGS:/a|b/|REQUEST_HEADERS", nil},
		{"ARGS:/a|!b/", []gateVar{{variables.Args, ""}}},
		// Counted, changing within a phase, unknown or empty.
		{"&ARGS", nil},
		{"ARGS|&REQUEST_HEADERS", nil},
		{"TX:foo", nil},
		{"ARGS|MATCHED_VARS", nil},
		{"ENV", nil},
		{"REQBODY_PROCESSOR", nil},
		{"NOPE", nil},
		{"ARGS||ARGS_NAMES", nil},
		{"!ARGS:a", nil},
		{"", nil},
	} {
		got, ok := readGateVars(tc.in)
		if ok != (tc.want != nil) || !reflect.DeepEqual(got, tc.want) && tc.want != nil {
			t.Errorf("%q: got %v %v, want %v", tc.in, got, ok, tc.want)
		}
	}
}

// TestGateSpecs checks which rules of a file the gate reads, and that a
// skip:N action keeps it from the rules it may reach.
func TestGateSpecs(t *testing.T) {
	src := strings.Join([]string{
		`SecRule ARGS "@rx a" "id:1,phase:2,block,t:none,t:lowercase,tag:'paranoia-level/2'"`,
		`SecRule ARGS "@rx b" "id:2,phase:1,block,t:none"`,
		`SecRule ARGS "!@rx c" "id:3,phase:2,block,t:none"`,
		`SecRule TX:x "@rx d" "id:4,phase:2,block,t:none"`,
		`SecRule ARGS "@within e" "id:5,phase:2,block,t:none"`,
		`SecRule ARGS "@rx f" "id:6,phase:2,block,t:lowercase"`,
		`SecRule ARGS "@rx g" "id:7,phase:2,block,t:none,multiMatch"`,
		`SecRule ARGS "@rx h" "id:8,phase:5,block,t:none"`,
		`SecRule ARGS "@rx i" "id:9,block,t:none"`,
		// The start of a chain without transformations, and one with.
		`SecRule ARGS "@rx j" "id:10,phase:2,block,t:none,chain"`,
		`SecRule ARGS "@rx j" "t:none,t:lowercase"`,
		`SecRule ARGS "@rx k" "id:11,phase:2,block,t:none,t:lowercase,chain"`,
		`SecRule ARGS "@rx k" "t:none"`,
		`SecRule REQBODY_PROCESSOR "@streq JSON" "id:12,phase:2,pass,t:none,nolog,skip:2"`,
		`SecRule ARGS "@rx l" "id:13,phase:2,block,t:none"`,
		`SecMarker "A"`,
		`SecRule ARGS "@rx m" "id:14,phase:1,block,t:none"`,
		`SecMarker "B"`,
		`SecRule ARGS "@rx n" "id:15,phase:2,block,t:none"`,
	}, "\n")
	f := fuseFile(src)
	var ids []int
	for _, s := range f.gated {
		ids = append(ids, s.id)
	}
	if want := []int{1, 2, 10, 15}; !slices.Equal(ids, want) {
		t.Errorf("gated %v, want %v", ids, want)
	}
	if f.gated[0].level != 2 || f.gated[0].phase != 2 || f.gated[1].phase != 1 {
		t.Errorf("got %+v", f.gated[:2])
	}
	if f.skipsPastEnd {
		t.Error("skips past the end")
	}
	text := string(f.text)
	for _, want := range []string{`"@transformed #1 lowercase rx a"`, `"@transformed #2 - rx b"`, `"@transformed #10 - rx j"`, `"@rx k"`, `"@rx l"`, `"@transformed #15 - rx n"`} {
		if !strings.Contains(text, want) {
			t.Errorf("no %s in\n%s", want, text)
		}
	}
	// A skip that reaches past the file's last marker (the rule that
	// skips may be gated: if it matches nothing it skips nothing).
	if f := fuseFile(`SecRule ARGS "@rx a" "id:1,phase:2,pass,t:none,skip:2"` + "\nSecMarker A\n" + `SecRule ARGS "@rx b" "id:2,phase:2,t:none"`); !f.skipsPastEnd || len(f.gated) != 1 {
		t.Errorf("got %+v", f)
	}
	// In the CRS, 920539 skips 920540 for JSON bodies.
	cf, err := crsFile("@owasp_crs/REQUEST-920-PROTOCOL-ENFORCEMENT.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cf.gated {
		if s.id == 920540 {
			t.Error("920540, which 920539 skips, is gated")
		}
	}

	// What the gate reads of the CRS at paranoia level 1, by phase (the
	// waf README gives these counts).
	files, err := fs.Glob(coreruleset.FS, "@owasp_crs/*.conf")
	if err != nil {
		t.Fatal(err)
	}
	var byPhase [5]int
	for _, name := range files {
		f, err := crsFile(name)
		if err != nil || f.skipsPastEnd {
			t.Fatalf("%s: %v, skips past its end %v", name, err, f != nil && f.skipsPastEnd)
		}
		for _, s := range f.gated {
			if s.level <= 1 {
				byPhase[s.phase]++
			}
		}
	}
	t.Logf("at paranoia level 1 the gate reads %d rules of phase 1, %d of phase 2, %d of phase 3 and %d of phase 4", byPhase[1], byPhase[2], byPhase[3], byPhase[4])
	if byPhase[1]+byPhase[2] < 110 || byPhase[2] < 90 || byPhase[4] < 40 {
		t.Errorf("the gate reads too few of the CRS's rules: %v", byPhase)
	}
}

// TestGateUnsettled checks which of a profile's directives turn the gate
// off.
func TestGateUnsettled(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "inc.conf")
	if err := os.WriteFile(inc, []byte(`SecRuleUpdateTargetById 942100 "REQUEST_HEADERS:X-Foo"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]bool{
		`SecRuleUpdateTargetById 942100 "!ARGS:foo"`:                             false,
		`SecRuleUpdateTargetByTag "attack-sqli" "!ARGS:foo|!REQUEST_COOKIES"`:    false,
		`SecRuleUpdateTargetById 942100 "REQUEST_HEADERS:X-Foo"`:                 true,
		`SecRuleUpdateTargetById 942100 REQUEST_HEADERS`:                         true,
		`SecRuleUpdateTargetById 942100 "!ARGS:a|REQUEST_HEADERS"`:               true,
		`SecRuleUpdateTargetById 942100 "!ARGS:a" REQUEST_URI`:                   true,
		`SecRuleUpdateTargetByMsg "a \" b" "!ARGS:a"`:                            false,
		"SecRuleUpdateTargetById 942100 \\\n  \"REQUEST_HEADERS\"":               true,
		`SecRuleUpdateTargetById 942100 "!ARGS:a`:                                true,
		`SecRuleUpdateTargetById 942100`:                                         true,
		`SecRuleUpdateActionById 942100 "phase:1"`:                               true,
		`SecRule ARGS "@rx a" "id:10001,phase:2,pass,skip:1"`:                    true,
		`SecRule ARGS "@rx a" "id:10001,phase:2,pass,Skip : 1"`:                  true,
		`SecRule ARGS "@rx a" "id:10001,phase:2,pass,skipAfter:END"`:             false,
		`SecRuleRemoveById 942100`:                                               false,
		`SecRule ARGS "@rx a" "id:10001,phase:2,pass,ctl:ruleRemoveById=942100"`: false,
		"Include " + inc:     true,
		"Include inc.conf":   true,
		"Inc\\\nlude " + inc: true,
		"SecRuleUpdateTar\\\ngetById 941100 \"REQUEST_HEADERS:X-Foo\"":        true,
		"SecRuleUpdateTargetById 941100 \\\n# a comment\n\"REQUEST_HEADERS\"": true,
		`SecRuleUpdateTargetById 941100 "!ARGS:/a/,REQUEST_HEADERS:X-Foo"`:    true,
		`SecRuleUpdateTargetById 941100 "!ARGS:/a|b/"`:                        true,
		`SecRuleUpdateTargetById 941100 "!ARGS:'a'"`:                          true,
		`SecRuleUpdateTargetById 941100 "!ARGS:/^a/|!REQUEST_COOKIES:b"`:      false,
		"SecAction \"id:10001,phase:2,pass,sk\\\nip:1\"":                      true,
	} {
		if got := gateUnsettled([]chunk{{text: text, field: "rules[0]"}}); got != want {
			t.Errorf("%q: got %v, want %v", text, got, want)
		}
	}
}

// TestGateKeepsWhatMatches runs the gate end to end: a request that
// matches nothing has the rules the gate reads removed, an attack keeps
// the rule that catches it, a rule of the profile's own with the id of
// a CRS rule it removed is left to Coraza, and a profile that adds a
// target to a rule runs without the gate, so that the rule reads the
// target.
func TestGateKeepsWhatMatches(t *testing.T) {
	var mu sync.Mutex
	removed := map[int]bool{}
	f := func(id int) {
		mu.Lock()
		removed[id] = true
		mu.Unlock()
	}
	gateRemoved.Store(&f)
	t.Cleanup(func() { gateRemoved.Store(nil) })
	build := func(extra string) coraza.WAF { return gateEngine(t, true, "", extra) }
	run := func(w coraza.WAF, header, query string) (matched []int, gone map[int]bool) {
		t.Helper()
		mu.Lock()
		clear(removed)
		mu.Unlock()
		matched = sendGET(t, w, header, query)
		mu.Lock()
		defer mu.Unlock()
		return matched, maps.Clone(removed)
	}
	xss := "<script>alert(1)</script>"

	w := build("")
	_, gone := run(w, "x", "q=shoes")
	if len(gone) < 80 || !gone[941110] || !gone[920270] {
		t.Errorf("a request that matches nothing: %d rules removed (941110 %v, 920270 %v), want every rule the gate reads at paranoia level 1",
			len(gone), gone[941110], gone[920270])
	}
	matched, gone := run(w, "x", "q="+url.QueryEscape(xss))
	if !slices.Contains(matched, 941110) || gone[941110] || len(gone) < 70 {
		t.Errorf("an XSS in the query: 941110 removed %v, matched %v; %d rules removed", gone[941110], matched, len(gone))
	}

	// A rule of the profile's own with the id of a CRS rule it removed.
	own := "SecRuleRemoveByTag attack-xss\n" + `SecRule REQUEST_HEADERS:X-Foo "@rx evil" "id:941110,phase:2,pass,log,t:none"`
	w = build(own)
	matched, gone = run(w, "evil", "q=shoes")
	if !slices.Contains(matched, 941110) || gone[941110] || len(gone) < 60 {
		t.Errorf("with %q: 941110 removed %v, matched %v; %d rules removed", own, gone[941110], matched, len(gone))
	}

	add := `SecRuleUpdateTargetById 941110 "REQUEST_HEADERS:X-Foo"`
	w = build(add)
	matched, gone = run(w, xss, "q=shoes")
	if !slices.Contains(matched, 941110) || len(gone) != 0 {
		t.Errorf("with %s: 941110 did not match the header (%v), or %d rules were removed", add, matched, len(gone))
	}
}

// FuzzGate compares the CRS written anew with the gate and without it, at
// paranoia level 4, on a value sent as a query argument, a header field, a
// cookie and a JSON string: the same rules must match the same variables,
// with the same messages and data, and, for the query and the JSON body,
// the same chains and TX collection.
//
//	go test ./waf -run '^$' -fuzz '^FuzzGate$' -fuzztime 60s
func FuzzGate(f *testing.F) {
	for _, s := range []string{
		"shoes", "1' or 1=1--", "<script>alert(1)</script>", "../../etc/passwd", ";cat /etc/passwd",
		"${jndi:ldap://x}", "%3Cscript%3E", "\\u0041", "<?php system('id'); ?>", "\x00\xff", "é%C3%A9",
	} {
		f.Add(s)
	}
	gated, err := crsEngineGated(false, true)
	if err != nil {
		f.Fatal(err)
	}
	plain, err := crsEngineGated(false, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if len(v) > 2048 {
			return
		}
		for _, where := range []string{"query", "header", "cookie", "json"} {
			all := where == "query" || where == "json"
			want, got := runValues(t, plain, where, []string{v}, all), runValues(t, gated, where, []string{v}, all)
			if !slices.Equal(got, want) {
				for _, m := range diff(got, want) {
					t.Error(m)
				}
				t.Fatalf("%s %q: the gate changed what matched", where, v)
			}
		}
	})
}

// TestGateLeaves checks which rules a profile's directives keep the gate
// from reading: those it removes by id, range, tag or message, and every
// id it names, however spelled.
func TestGateLeaves(t *testing.T) {
	g := newGates([]chunk{{text: strings.Join([]string{
		`SecRuleRemoveByTag "Attack-XSS"`,
		`SecRuleRemoveByMsg 'Some Message'`,
		`SecRuleRemoveById 942100-942110 "942200"`,
		`SecRule ARGS "@rx a" "id:+941110,pass"`,
		"SecRule ARGS \"@rx a\" \"id: '0941120',\\\n pass\"",
	}, "\n"), field: "rules[0]"}})
	for _, tc := range []struct {
		spec gateSpec
		want bool
	}{
		{gateSpec{id: 1, tags: []string{"attack-xss"}}, true},
		{gateSpec{id: 2, msg: "some message"}, true},
		{gateSpec{id: 942105}, true},
		{gateSpec{id: 942200}, true},
		{gateSpec{id: 941110}, true},
		{gateSpec{id: 941120}, true},
		{gateSpec{id: 942111, tags: []string{"attack-sqli"}, msg: "other"}, false},
	} {
		if got := g.leaves(tc.spec); got != tc.want {
			t.Errorf("%+v: got %v, want %v", tc.spec, got, tc.want)
		}
	}
}
