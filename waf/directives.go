package waf

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// chunk is a piece of a profile's SecLang and where it came from, so that a
// directive Coraza refuses can be reported at its place in the routes file
// or in a rule file.
type chunk struct {
	text string
	// field is the profile's field it came from ("rules[2]",
	// "exclusions[0]"); empty for the gateway's own directives and the
	// CRS's, which Coraza does not refuse.
	field string
	// file and line are where text starts: a rule file and its line, or
	// the line within the field's own text; zero when the field is one
	// line.
	file string
	line int
}

// firstOwnRuleID is the first id of the rules the gateway writes for a
// profile (path-scoped exclusions): ids from 99000 to 99999 are the
// gateway's, within the range that ModSecurity leaves for local rules.
const firstOwnRuleID = 99000

const lastOwnRuleID = 99999

// maxExclusions bounds a profile's exclusions, so that the ids of the
// rules for those on a path (firstOwnRuleID on) stay below the ids of the
// gateway's rules that gate the CRS's (gate.go) and give names their own
// keys (distinct.go).
const maxExclusions = gateRuleID - firstOwnRuleID

// directives returns a profile's SecLang in the order Coraza loads it:
// the engine's settings, the CRS's setup and the profile's tx variables,
// what must come before the CRS's rules, the CRS's rules with its plugins
// around them as the CRS orders them, and what must come after. pluginDir
// is the section's crs_plugin_dir; audit names the audit log's sink, or is
// empty for none.
func directives(p *Profile, pluginDir, audit string) ([]chunk, error) {
	var out []chunk
	own := func(format string, args ...any) {
		out = append(out, chunk{text: fmt.Sprintf(format, args...)})
	}
	own("%s", engineSettings(p, audit))
	own("%s", crsSettings(&p.CRS))
	crsPlugins, err := pluginFiles(pluginDir, &p.CRS)
	if err != nil {
		return nil, err
	}
	out = append(out, crsPlugins["config"]...)
	out = append(out, runtimeExclusions(p.Exclusions)...)
	for i, r := range p.RulesBeforeCRS {
		out = append(out, split(r, fmt.Sprintf("rules_before_crs[%d]", i), "")...)
	}
	out = append(out, crsPlugins["before"]...)
	own("Include @owasp_crs/*.conf")
	if _, removed := promotion(&p.CRS); len(removed) > 0 {
		// The rules of the levels the promoted ones belong to, but them.
		var b strings.Builder
		for _, id := range removed {
			fmt.Fprintf(&b, "SecRuleRemoveById %d\n", id)
		}
		own("%s", b.String())
	}
	out = append(out, crsPlugins["after"]...)
	out = append(out, loadExclusions(p.Exclusions)...)
	for i, f := range p.RuleFiles {
		b, err := os.ReadFile(string(f))
		if err != nil {
			return nil, &fieldErr{fmt.Sprintf("rule_files[%d]", i), fmt.Errorf("cannot read the rule file: %w", err)}
		}
		out = append(out, split(string(b), fmt.Sprintf("rule_files[%d]", i), string(f))...)
	}
	for i, r := range p.Rules {
		out = append(out, split(r, fmt.Sprintf("rules[%d]", i), "")...)
	}
	return out, nil
}

// engineSettings overrides Coraza's recommended settings (which also turn
// on the JSON and XML body processors by Content-Type and refuse bodies
// that do not parse) with the profile's. The gateway reads the request
// body itself and gives Coraza at most RequestBodyLimit bytes, all held in
// memory.
func engineSettings(p *Profile, audit string) string {
	engine := "On"
	if p.Mode == "detect" {
		engine = "DetectionOnly"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Include @coraza.conf-recommended\nSecRuleEngine %s\n", engine)
	b.WriteString(distinctKeysRules())
	b.WriteString(gateRules(detectionLevel(&p.CRS)))
	// Rules of the response and logging phases log their matches too, as
	// in ModSecurity, whose default action holds for every phase (and as
	// the CRS's own setup says from v4.25.1 on): the CRS's reporting rule,
	// 980170, is one of phase 5.
	b.WriteString("SecDefaultAction \"phase:3,log,auditlog,pass\"\nSecDefaultAction \"phase:4,log,auditlog,pass\"\nSecDefaultAction \"phase:5,log,auditlog,pass\"\n")
	// Coraza refuses a body that reaches its limit; the gateway stops
	// at the profile's own, one byte short of it.
	fmt.Fprintf(&b, "SecRequestBodyLimit %d\nSecRequestBodyInMemoryLimit %d\n", p.RequestBodyLimit+1, p.RequestBodyLimit+1)
	fmt.Fprintf(&b, "SecRequestBodyJsonDepthLimit %d\nSecArgumentsLimit %d\n", p.Limits.Depth, p.Limits.Args)
	r := &p.Response
	if r.Inspect {
		action := "ProcessPartial"
		if r.BodyLimitAction == "reject" {
			action = "Reject"
		}
		fmt.Fprintf(&b, "SecResponseBodyAccess On\nSecResponseBodyMimeTypesClear\nSecResponseBodyMimeType %s\n", strings.Join(r.MimeTypes, " "))
		fmt.Fprintf(&b, "SecResponseBodyLimit %d\nSecResponseBodyLimitAction %s\n", r.BodyLimit, action)
	} else {
		b.WriteString("SecResponseBodyAccess Off\n")
	}
	if audit == "" {
		b.WriteString("SecAuditEngine Off\n")
	} else {
		// Blocked transactions, or those detect mode would have blocked,
		// without the request and response bodies (they hold passwords
		// and tokens).
		fmt.Fprintf(&b, "SecAuditEngine RelevantOnly\nSecAuditLogRelevantStatus \"^[45]\"\nSecAuditLogParts ABFHKZ\n")
		fmt.Fprintf(&b, "SecAuditLogFormat JSON\nSecAuditLogType %s\nSecAuditLog %s\n", auditWriterName, audit)
	}
	return b.String()
}

// crsSettings sets the CRS's tx variables as crs-setup.conf does, with the
// same rule ids.
func crsSettings(c *CRS) string {
	var b strings.Builder
	b.WriteString("Include @crs-setup.conf.example\n")
	set := func(id int, vars ...string) {
		fmt.Fprintf(&b, "SecAction \"id:%d,phase:1,pass,t:none,nolog", id)
		for _, v := range vars {
			fmt.Fprintf(&b, ",setvar:'tx.%s'", v)
		}
		b.WriteString("\"\n")
	}
	level, _ := promotion(c)
	set(900000, fmt.Sprintf("blocking_paranoia_level=%d", level))
	set(900001, fmt.Sprintf("detection_paranoia_level=%d", detectionLevel(c)))
	set(900110, fmt.Sprintf("inbound_anomaly_score_threshold=%d", c.InboundThreshold),
		fmt.Sprintf("outbound_anomaly_score_threshold=%d", c.OutboundThreshold))
	if c.AllowedMethods != nil {
		set(900200, "allowed_methods="+strings.Join(c.AllowedMethods, " "))
	}
	if c.AllowedContentTypes != nil {
		set(900220, "allowed_request_content_type=|"+strings.Join(c.AllowedContentTypes, "| |")+"|")
	}
	if c.AllowedHTTPVersions != nil {
		set(900230, "allowed_http_versions="+strings.Join(c.AllowedHTTPVersions, " "))
	}
	if c.RestrictedExtensions != nil {
		set(900240, "restricted_extensions="+strings.Join(c.RestrictedExtensions, "/ ")+"/")
	}
	return b.String()
}

// detectionLevel is the paranoia level up to which the CRS's rules run.
func detectionLevel(c *CRS) int {
	level, _ := promotion(c)
	return max(level, c.ExecutingParanoia)
}

// pluginFiles reads the files of the profile's CRS plugins from dir, by
// kind (config, before, after). A plugin with none of the three is an
// error.
func pluginFiles(dir string, c *CRS) (map[string][]chunk, error) {
	type named struct{ field, name string }
	var all []named
	for i, app := range c.ApplicationExclusions {
		all = append(all, named{fmt.Sprintf("crs.application_exclusions[%d]", i), app + "-rule-exclusions"})
	}
	for i, name := range c.Plugins {
		all = append(all, named{fmt.Sprintf("crs.plugins[%d]", i), name})
	}
	out := make(map[string][]chunk)
	for _, p := range all {
		found := false
		for _, kind := range []string{"config", "before", "after"} {
			path := filepath.Join(dir, p.name+"-"+kind+".conf")
			b, err := os.ReadFile(path)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				return nil, &fieldErr{p.field, err}
			}
			found = true
			out[kind] = append(out[kind], split(string(b), p.field, path)...)
		}
		if !found {
			return nil, &fieldErr{p.field, fmt.Errorf("no CRS plugin %q in %s (want %s-before.conf, -config.conf or -after.conf)", p.name, dir, p.name)}
		}
	}
	return out, nil
}

// runtimeExclusions are the exclusions limited to a path: a rule that runs
// before the CRS's and removes rules, or their targets, from the rest of
// the transaction.
func runtimeExclusions(excl []Exclusion) []chunk {
	var out []chunk
	for i, e := range excl {
		op := ""
		switch {
		case e.Path != "":
			op = "@streq " + e.Path
		case e.PathPrefix != "":
			op = "@beginsWith " + e.PathPrefix
		default:
			continue
		}
		var ctl []string
		for _, id := range e.IDs {
			ctl = append(ctl, ctlAction("Id", id, e.Target))
		}
		for _, tag := range e.Tags {
			ctl = append(ctl, ctlAction("Tag", tag, e.Target))
		}
		out = append(out, chunk{
			text:  fmt.Sprintf(`SecRule REQUEST_FILENAME "%s" "id:%d,phase:1,pass,nolog,noauditlog,t:none,%s"`, op, firstOwnRuleID+i, strings.Join(ctl, ",")),
			field: fmt.Sprintf("exclusions[%d]", i),
		})
	}
	return out
}

// ctlAction removes the rules of one id, range or tag, or, with a target,
// that variable from them.
func ctlAction(by, what, target string) string {
	if target == "" {
		return "ctl:ruleRemoveBy" + by + "=" + what
	}
	return "ctl:ruleRemoveTargetBy" + by + "=" + what + ";" + target
}

// loadExclusions are the exclusions that hold everywhere: directives that
// remove rules, or their targets, once the CRS's rules are loaded. One
// directive per id, since Coraza's SecRuleUpdateTargetById heeds only the
// first of several.
func loadExclusions(excl []Exclusion) []chunk {
	var out []chunk
	for i, e := range excl {
		if e.Path != "" || e.PathPrefix != "" {
			continue
		}
		field := fmt.Sprintf("exclusions[%d]", i)
		for _, id := range e.IDs {
			text := "SecRuleRemoveById " + id
			if e.Target != "" {
				text = fmt.Sprintf("SecRuleUpdateTargetById %s \"!%s\"", id, e.Target)
			}
			out = append(out, chunk{text: text, field: field})
		}
		for _, tag := range e.Tags {
			text := "SecRuleRemoveByTag " + tag
			if e.Target != "" {
				text = fmt.Sprintf("SecRuleUpdateTargetByTag %s \"!%s\"", tag, e.Target)
			}
			out = append(out, chunk{text: text, field: field})
		}
	}
	return out
}

// fieldErr is an error about one of a profile's fields, before the
// profile's name is known to prefix it.
type fieldErr struct {
	field string
	err   error
}

func (e *fieldErr) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldErr) Unwrap() error { return e.err }
