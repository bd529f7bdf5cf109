package waf_test

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
	"github.com/portcullis-gw/portcullis/routes"
)

// line is one expected error: its line and a part of its message.
type line struct {
	n   int
	msg string
}

// checkErrors loads src and checks that it fails with exactly the errors
// want names, each on its line.
func checkErrors(t *testing.T, path, src string, want []line) {
	t.Helper()
	reg, err := plugins.NewRegistry(plugin.Factory())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := routes.Parse(path, []byte(src), reg)
	var errs routes.Errors
	if !errors.As(err, &errs) {
		cfg.Close()
		t.Fatalf("got error %v, want routes.Errors", err)
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors:\n%v\nwant %d", len(errs), errs, len(want))
	}
	for _, w := range want {
		if !slices.ContainsFunc(errs, func(e *routes.Error) bool { return e.Line == w.n && strings.Contains(e.Msg, w.msg) }) {
			t.Errorf("got errors:\n%v\nwant one on line %d with %q", errs, w.n, w.msg)
		}
	}
}

// TestSectionErrors points every bad value of a section at its line, all
// at once, without building an engine.
func TestSectionErrors(t *testing.T) {
	src := routesFile(`  audit_log: { path: waf-audit.log }
  profiles:
    strict:
      mode: monitor
      crs:
        paranoia: 7
        executing_paranoia: 2
        inbound_threshold: -1
        allowed_methods: [get, POST]
        allowed_content_types: [json]
        allowed_http_versions: [HTTP/4]
        restricted_extensions: [bak]
        plugins: [wordpress]
      request_body_limit: 2GiB
      request_body_limit_action: drop
      limits: { args: -1, depth: 5000 }
      response: { mime_types: ["text/html; charset=utf-8"], body_limit_action: truncate }
      rules: ["  "]
    "bad name": {}
`, "strict")
	checkErrors(t, "routes.yaml", src, []line{
		{4, `waf.audit_log.path: must be stdout, stderr, off or an absolute path, got "waf-audit.log"`},
		{7, `waf.profiles.strict.mode: unknown value "monitor" (want block or detect)`},
		{9, `waf.profiles.strict.crs: CRS plugins need the section's crs_plugin_dir`},
		{9, "waf.profiles.strict.crs.paranoia: must be 1 to 4, got 7"},
		{10, "waf.profiles.strict.crs.executing_paranoia: must be from paranoia (7) to 4, got 2"},
		{11, "waf.profiles.strict.crs.inbound_threshold: must be from 1 to 10000, got -1"},
		{12, `waf.profiles.strict.crs.allowed_methods[0]: "get" is not an upper-case method`},
		{13, `waf.profiles.strict.crs.allowed_content_types[0]: "json" is not a media type`},
		{14, `waf.profiles.strict.crs.allowed_http_versions[0]: "HTTP/4" is not one of`},
		{15, `waf.profiles.strict.crs.restricted_extensions[0]: "bak" is not an extension`},
		{17, "waf.profiles.strict.request_body_limit: must be from 1 byte to 1GiB, got 2048MiB"},
		{18, `waf.profiles.strict.request_body_limit_action: unknown value "drop"`},
		{19, "waf.profiles.strict.limits.args: must be from 1 to 100000, got -1"},
		{19, "waf.profiles.strict.limits.depth: must be from 1 to 1000, got 5000"},
		{20, `waf.profiles.strict.response.mime_types[0]: "text/html; charset=utf-8" is not a media type`},
		{20, `waf.profiles.strict.response.body_limit_action: unknown value "truncate"`},
		{21, "waf.profiles.strict.rules[0]: is empty"},
		{22, `waf.profiles.bad name: a profile name is letters, digits, '-' and '_', got "bad name"`},
	})
}

// TestHostileExclusions refuses exclusion values that would close a quoted
// argument or an action list, or expand a macro, in the SecLang built from
// them.
func TestHostileExclusions(t *testing.T) {
	src := routesFile(`  profiles:
    x:
      exclusions:
        - { ids: ["942100\" \"id:1,phase:1,deny"] }
        - { ids: ["0", "942199-942100", "1-", "-5"] }
        - { tags: ["attack-sqli,deny", "a'b"] }
        - { ids: [942100], target: "ARGS:a\" \"id:1,deny" }
        - { ids: [942100], target: "ARGS:a,ctl:ruleEngine=Off" }
        - { ids: [942100], target: "ARGS:%{tx.x}" }
        - { ids: [942100], path: "/x\" \"@rx ." }
        - { ids: [942100], path_prefix: "/a b" }
        - { ids: [942100], path: "/%{tx.x}" }
        - { ids: [942100], path: "relative" }
        - { ids: [942100], path: /a, path_prefix: /b }
        - { target: ARGS:a }
        - { ids: ["99997", "1-999999", "98000-99000", "99999-100000", "98000-98999"] }
`, "x")
	checkErrors(t, "routes.yaml", src, []line{
		{7, `exclusions[0].ids[0]: "942100\" \"id:1,phase:1,deny" is not a rule id`},
		{8, `exclusions[1].ids[0]: "0" is not a rule id`},
		{8, `exclusions[1].ids[1]: range "942199-942100" ends before it starts`},
		{8, `exclusions[1].ids[2]: "1-" is not a rule id`},
		{8, `exclusions[1].ids[3]: "-5" is not a rule id`},
		{9, `exclusions[2].tags[0]: "attack-sqli,deny" is not a rule tag`},
		{9, `exclusions[2].tags[1]: "a'b" is not a rule tag`},
		{10, `exclusions[3].target: "ARGS:a\" \"id:1,deny" is not a variable`},
		{11, `exclusions[4].target: "ARGS:a,ctl:ruleEngine=Off" is not a variable`},
		{12, `exclusions[5].target: "ARGS:%{tx.x}" is not a variable`},
		{13, `exclusions[6].path: "/x\" \"@rx ." is not a path`},
		{14, `exclusions[7].path_prefix: "/a b" is not a path`},
		{15, `exclusions[8].path: "/%{tx.x}" is not a path`},
		{16, `exclusions[9].path: "relative" is not a path`},
		{17, `exclusions[10].path: set path or path_prefix, not both`},
		{18, `exclusions[11]: needs ids or tags to exclude`},
		{19, `exclusions[12].ids[0]: "99997" reaches into 99000-99999, the ids of the gateway's own rules`},
		{19, `exclusions[12].ids[1]: "1-999999" reaches into 99000-99999`},
		{19, `exclusions[12].ids[2]: "98000-99000" reaches into 99000-99999`},
		{19, `exclusions[12].ids[3]: "99999-100000" reaches into 99000-99999`},
	})
}

// TestRouteErrors points at the route that names a profile nobody defined,
// and at a key the section does not know.
func TestRouteErrors(t *testing.T) {
	checkErrors(t, "routes.yaml", routesFile("  profiles: { api: {} }\n", "nope"), []line{
		{12, `route "all": plugins[0] waf: no profile "nope" (defined: api, default)`},
	})
	checkErrors(t, "routes.yaml", routesFile("  profiles: { api: { paranoia: 2 } }\n", "api"), []line{
		{4, `waf.profiles.api: unknown key "paranoia"`},
	})
}

// TestDirectiveErrors points a directive Coraza refuses at its place: the
// line of the routes file it is written on, or the line of the rule file
// it is read from, and keeps the load from succeeding.
func TestDirectiveErrors(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules", "custom.conf")
	if err := os.MkdirAll(filepath.Dir(rules), 0o755); err != nil {
		t.Fatal(err)
	}
	custom := "# our rules\nSecRule ARGS:id \"@rx ^[0-9]+$\" \"id:10001,phase:2,pass,nolog\"\n\nSecRule ARGS \\\n  \"@nosuchoperator x\" \\\n  \"id:10002,phase:2,deny\"\n"
	if err := os.WriteFile(rules, []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	src := routesFile(`  profiles:
    inline:
      rules_before_crs:
        - |
          SecRule ARGS:a "@streq b" "id:10003,phase:1,pass,nolog"
          SecRule ARGS:b "@streq c" "id:10004,phase:1,pass,nolog,nosuchaction"
    file:
      rule_files: [rules/custom.conf]
`, "inline")
	checkErrors(t, filepath.Join(dir, "routes.yaml"), src, []line{
		{11, `waf.profiles.file.rule_files[0]: ` + rules + `:4: failed to compile the directive "secrule"`},
		{7, `waf.profiles.inline.rules_before_crs[0]: line 2: failed to compile the directive "secrule"`},
	})
}

// TestCRSPlugins loads a CRS plugin's files from crs_plugin_dir around the
// CRS's rules, by plugin name or, for an application's exclusions, by the
// application's, and refuses a plugin that is not there.
func TestCRSPlugins(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A shop application's exclusions: its "review" argument may hold
	// HTML, so the XSS rules skip it.
	write("shop-rule-exclusions-config.conf", "SecAction \"id:10100,phase:1,pass,nolog,setvar:tx.shop_exclusions=1\"\n")
	write("shop-rule-exclusions-before.conf", "SecRule TX:shop_exclusions \"@eq 1\" \"id:10101,phase:1,pass,nolog,ctl:ruleRemoveTargetByTag=attack-xss;ARGS:review\"\n")
	write("deny-header-after.conf", "SecRule REQUEST_HEADERS:X-Deny \"@streq 1\" \"id:10102,phase:1,deny,status:451\"\n")
	src := routesFile(`  crs_plugin_dir: `+dir+`
  profiles:
    shop: { crs: { application_exclusions: [shop], plugins: [deny-header] } }
`, "shop")
	h := sharedRoute(t, src, "/").Handlers[0]
	for _, tt := range []struct {
		ex   plugintest.Exchange
		want int
	}{
		{get("/?review=" + url.QueryEscape("<b onmouseover=alert(1)>great</b>")), 0},
		{get("/?q=" + url.QueryEscape("<b onmouseover=alert(1)>great</b>")), 403},
		{plugintest.Exchange{Target: "/", Header: browser("X-Deny", "1")}, 451},
	} {
		if got := status(plugintest.Run(t, "HTTP/1.1", h, tt.ex).Err); got != tt.want {
			t.Errorf("%s %v: got %d, want %d", tt.ex.Target, tt.ex.Header, got, tt.want)
		}
	}
	checkErrors(t, "routes.yaml", routesFile(`  crs_plugin_dir: `+dir+`
  profiles:
    wp: { crs: { application_exclusions: [wordpress] } }
`, "wp"), []line{
		{6, `waf.profiles.wp.crs.application_exclusions[0]: no CRS plugin "wordpress-rule-exclusions" in ` + dir},
	})
}

// status is the status of a plugin's rejection, 0 for none, and -1 for any
// other error.
func status(err error) int {
	var rej *plugins.Reject
	switch {
	case err == nil:
		return 0
	case errors.As(err, &rej):
		return rej.Status
	}
	return -1
}

// TestPromoteErrors: a promoted id must be a CRS rule above the profile's
// level, and promotions cannot be combined with a higher executing level.
func TestPromoteErrors(t *testing.T) {
	src := routesFile(`  profiles:
    p:
      crs: { promote: [942130, 942100, 123456] }
    q:
      crs: { paranoia: 2, promote: [942130] }
    r:
      crs: { executing_paranoia: 2, promote: [942130] }
`, "p")
	checkErrors(t, "routes.yaml", src, []line{
		{6, "waf.profiles.p.crs.promote[1]: rule 942100 is of paranoia level 1, which the profile runs already"},
		{6, "waf.profiles.p.crs.promote[2]: 123456 is not a rule of the embedded CRS with a paranoia level"},
		{8, "waf.profiles.q.crs.promote[0]: rule 942130 is of paranoia level 2, which the profile runs already"},
		{10, "waf.profiles.r.crs.promote: cannot be combined with an executing_paranoia above paranoia"},
	})
}

// TestTooManyExclusions refuses a profile with more exclusions than leave
// room for the ids of the gateway's own rules.
func TestTooManyExclusions(t *testing.T) {
	src := routesFile("  profiles:\n    x:\n      exclusions:\n"+strings.Repeat("        - { ids: [942100], path: /a }\n", 993), "x")
	checkErrors(t, "routes.yaml", src, []line{
		{7, `waf.profiles.x.exclusions: has 993 exclusions, more than the 992 a profile may have`},
	})
}
