package waf

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/portcullis-gw/portcullis/plugins"
)

// The defaults of a profile's fields left out.
const (
	defaultBodyLimit         = 1 << 20
	defaultInspectedBytes    = 64 << 10
	defaultArgs              = 256
	defaultDepth             = 32
	defaultResponseBodyLimit = 512 << 10
	defaultInboundThreshold  = 5
	defaultOutboundThreshold = 4
	// maxBodyLimit bounds the bodies a profile may have the gateway hold
	// in memory while they are inspected.
	maxBodyLimit = 1 << 30
)

// defaultMimeTypes are the response bodies read when a profile inspects
// responses and names none.
var defaultMimeTypes = []string{"text/html", "text/plain", "application/json"}

// The shapes of the values that end up in SecLang: each is checked so that
// nothing a profile says can close a quoted argument or an action list, or
// expand a macro, in the directives built from it.
var (
	profileName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	methodName  = regexp.MustCompile(`^[A-Z][A-Z0-9-]*$`)
	mediaType   = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$`)
	extension   = regexp.MustCompile(`^\.[a-z0-9][a-z0-9._-]*$`)
	pluginName  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	ruleIDs     = regexp.MustCompile(`^([1-9][0-9]{0,8})(?:-([1-9][0-9]{0,8}))?$`)
	ruleTag     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./-]*$`)
	ruleTarget  = regexp.MustCompile(`^[A-Z][A-Z_]*(?::[^\x00-\x20"'\\,;|%\x7f]+)?$`)
	pathValue   = regexp.MustCompile(`^/[^\x00-\x20"'\\,%\x7f]*$`)
	httpVersion = []string{"HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/2.0", "HTTP/3", "HTTP/3.0"}
)

// checker collects a section's field errors.
type checker struct{ errs []error }

func (c *checker) fail(field, format string, args ...any) {
	c.errs = append(c.errs, &plugins.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// result is the errors found, joined, or nil.
func (c *checker) result() error { return errors.Join(c.errs...) }

// each checks every item of a list against re.
func (c *checker) each(field string, items []string, re *regexp.Regexp, what string) {
	for i, s := range items {
		if !re.MatchString(s) {
			c.fail(fmt.Sprintf("%s[%d]", field, i), "%q is not %s", s, what)
		}
	}
}

// check validates the section and fills in the defaults of every profile.
func (c *checker) check(s *Section) {
	switch p := s.AuditLog.Path; {
	case p == "", p == "off", p == "stdout", p == "stderr":
	case !filepath.IsAbs(p):
		c.fail("audit_log.path", "must be stdout, stderr, off or an absolute path, got %q", p)
	default:
		if fi, err := os.Stat(filepath.Dir(p)); err != nil || !fi.IsDir() {
			c.fail("audit_log.path", "the directory of %q does not exist", p)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Profiles)) {
		at := "profiles." + name
		if !profileName.MatchString(name) {
			c.fail(at, "a profile name is letters, digits, '-' and '_', got %q", name)
		}
		if s.Profiles[name] == nil {
			s.Profiles[name] = new(Profile)
		}
		p := s.Profiles[name]
		c.profile(at, p)
		if (len(p.CRS.Plugins) > 0 || len(p.CRS.ApplicationExclusions) > 0) && s.CRSPluginDir == "" {
			c.fail(at+".crs", "CRS plugins need the section's crs_plugin_dir: the embedded CRS ships none")
		}
	}
}

func (c *checker) profile(at string, p *Profile) {
	c.oneOf(at+".mode", &p.Mode, "block", "detect")
	c.crs(at+".crs", &p.CRS)
	c.size(at+".request_body_limit", &p.RequestBodyLimit, defaultBodyLimit)
	c.oneOf(at+".request_body_limit_action", &p.RequestBodyLimitAction, "reject", "inspect_partial")
	l := &p.Limits
	c.size(at+".limits.inspected_bytes", &l.InspectedBytes, defaultInspectedBytes)
	c.count(at+".limits.args", &l.Args, defaultArgs, 100000)
	c.count(at+".limits.depth", &l.Depth, defaultDepth, 1000)
	r := &p.Response
	if r.MimeTypes == nil {
		r.MimeTypes = defaultMimeTypes
	}
	c.each(at+".response.mime_types", r.MimeTypes, mediaType, "a media type such as text/html")
	c.size(at+".response.body_limit", &r.BodyLimit, defaultResponseBodyLimit)
	c.oneOf(at+".response.body_limit_action", &r.BodyLimitAction, "inspect_partial", "reject")
	for i := range p.Exclusions {
		c.exclusion(fmt.Sprintf("%s.exclusions[%d]", at, i), &p.Exclusions[i])
	}
	if n := len(p.Exclusions); n > maxExclusions {
		c.fail(at+".exclusions", "has %d exclusions, more than the %d a profile may have", n, maxExclusions)
	}
	for i, r := range p.RulesBeforeCRS {
		if strings.TrimSpace(r) == "" {
			c.fail(fmt.Sprintf("%s.rules_before_crs[%d]", at, i), "is empty")
		}
	}
	for i, r := range p.Rules {
		if strings.TrimSpace(r) == "" {
			c.fail(fmt.Sprintf("%s.rules[%d]", at, i), "is empty")
		}
	}
}

func (c *checker) crs(at string, s *CRS) {
	if s.Paranoia == 0 {
		s.Paranoia = 1
	}
	if s.Paranoia < 1 || s.Paranoia > 4 {
		c.fail(at+".paranoia", "must be 1 to 4, got %d", s.Paranoia)
	}
	if s.ExecutingParanoia == 0 {
		s.ExecutingParanoia = s.Paranoia
	}
	if s.ExecutingParanoia < s.Paranoia || s.ExecutingParanoia > 4 {
		c.fail(at+".executing_paranoia", "must be from paranoia (%d) to 4, got %d", s.Paranoia, s.ExecutingParanoia)
	}
	c.promote(at+".promote", s)
	c.count(at+".inbound_threshold", &s.InboundThreshold, defaultInboundThreshold, 10000)
	c.count(at+".outbound_threshold", &s.OutboundThreshold, defaultOutboundThreshold, 10000)
	c.each(at+".allowed_methods", s.AllowedMethods, methodName, "an upper-case method")
	c.each(at+".allowed_content_types", s.AllowedContentTypes, mediaType, "a media type such as application/json")
	c.each(at+".restricted_extensions", s.RestrictedExtensions, extension, "an extension such as .bak")
	for i, v := range s.AllowedHTTPVersions {
		if !slices.Contains(httpVersion, v) {
			c.fail(fmt.Sprintf("%s.allowed_http_versions[%d]", at, i), "%q is not one of %s", v, strings.Join(httpVersion, ", "))
		}
	}
	c.each(at+".application_exclusions", s.ApplicationExclusions, pluginName, "an application name such as wordpress")
	c.each(at+".plugins", s.Plugins, pluginName, "a CRS plugin name")
}

// promote fills in the default promotions and checks that each promoted
// id is a rule of the embedded CRS above the profile's paranoia level.
func (c *checker) promote(at string, s *CRS) {
	switch {
	case s.Promote == nil && s.Paranoia == 1 && s.ExecutingParanoia == s.Paranoia:
		s.Promote = DefaultPromoted
		return
	case len(s.Promote) > 0 && s.ExecutingParanoia != s.Paranoia:
		c.fail(at, "cannot be combined with an executing_paranoia above paranoia: the rules of the levels between would not run")
		return
	}
	for i, id := range s.Promote {
		switch l, ok := crsLevels()[id]; {
		case !ok:
			c.fail(fmt.Sprintf("%s[%d]", at, i), "%d is not a rule of the embedded CRS with a paranoia level", id)
		case l <= s.Paranoia:
			c.fail(fmt.Sprintf("%s[%d]", at, i), "rule %d is of paranoia level %d, which the profile runs already", id, l)
		}
	}
}

func (c *checker) exclusion(at string, e *Exclusion) {
	if len(e.IDs) == 0 && len(e.Tags) == 0 {
		c.fail(at, "needs ids or tags to exclude")
	}
	for i, id := range e.IDs {
		m := ruleIDs.FindStringSubmatch(id)
		if m == nil {
			c.fail(fmt.Sprintf("%s.ids[%d]", at, i), "%q is not a rule id or a range such as 942100-942199", id)
			continue
		}
		lo, hi := atoi(m[1]), atoi(m[2])
		if m[2] == "" {
			hi = lo
		}
		switch {
		case hi < lo:
			c.fail(fmt.Sprintf("%s.ids[%d]", at, i), "range %q ends before it starts", id)
		case lo <= lastOwnRuleID && hi >= firstOwnRuleID:
			c.fail(fmt.Sprintf("%s.ids[%d]", at, i), "%q reaches into %d-%d, the ids of the gateway's own rules", id, firstOwnRuleID, lastOwnRuleID)
		}
	}
	c.each(at+".tags", e.Tags, ruleTag, "a rule tag such as attack-sqli")
	if e.Target != "" && !ruleTarget.MatchString(e.Target) {
		c.fail(at+".target", "%q is not a variable such as ARGS:password or REQUEST_COOKIES:session", e.Target)
	}
	switch {
	case e.Path != "" && e.PathPrefix != "":
		c.fail(at+".path", "set path or path_prefix, not both")
	case e.Path != "" && !pathValue.MatchString(e.Path):
		c.fail(at+".path", "%q is not a path such as /login (no quotes, commas, '%%' or spaces)", e.Path)
	case e.PathPrefix != "" && !pathValue.MatchString(e.PathPrefix):
		c.fail(at+".path_prefix", "%q is not a path such as /api/ (no quotes, commas, '%%' or spaces)", e.PathPrefix)
	}
}

// oneOf checks an enumerated value, filling in the first of allowed when
// it was left out.
func (c *checker) oneOf(field string, v *string, allowed ...string) {
	switch {
	case *v == "":
		*v = allowed[0]
	case !slices.Contains(allowed, *v):
		c.fail(field, "unknown value %q (want %s)", *v, strings.Join(allowed, " or "))
	}
}

// size checks a byte limit, filling in def when it was left out.
func (c *checker) size(field string, v *Size, def Size) {
	switch {
	case *v == 0:
		*v = def
	case *v < 0 || *v > maxBodyLimit:
		c.fail(field, "must be from 1 byte to 1GiB, got %s", *v)
	}
}

// count checks a positive number up to max, filling in def when it was
// left out.
func (c *checker) count(field string, v *int, def, max int) {
	switch {
	case *v == 0:
		*v = def
	case *v < 1 || *v > max:
		c.fail(field, "must be from 1 to %d, got %d", max, *v)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
