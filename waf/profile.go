package waf

import "github.com/portcullis-gw/portcullis/plugins"

// Profile is one named way of inspecting requests: the CRS's settings, the
// mode, the limits that bound an inspection's cost, the response phases,
// exclusions and extra rules. Every route that names a profile shares its
// one engine. Fields left out take the defaults the comments give.
type Profile struct {
	// Mode is block (the default): a request the rules reject is
	// answered with the rule's status, 403 by default; or detect: it is
	// logged, counted and passed on. The limits hold in either mode.
	Mode string `yaml:"mode"`
	CRS  CRS    `yaml:"crs"`
	// RequestBodyLimit bounds the request body the WAF reads (default
	// 1MiB), file uploads included; RequestBodyLimitAction says what
	// becomes of a longer one: reject (413, the default) or
	// inspect_partial (the first RequestBodyLimit bytes are inspected and
	// the whole body is forwarded).
	RequestBodyLimit       Size   `yaml:"request_body_limit"`
	RequestBodyLimitAction string `yaml:"request_body_limit_action"`
	// Limits bound the cost of one inspection; a request past any of them
	// is refused with 413, in either mode.
	Limits   Limits   `yaml:"limits"`
	Response Response `yaml:"response"`
	// Exclusions turn rules off, everywhere or on some paths, for the
	// whole request or for one of its variables.
	Exclusions []Exclusion `yaml:"exclusions"`
	// RulesBeforeCRS are SecLang directives loaded after the CRS's setup
	// and before its rules: rules that add to the anomaly score, or
	// exclusions by ctl. Each item may hold several lines.
	RulesBeforeCRS []string `yaml:"rules_before_crs"`
	// RuleFiles are SecLang files and Rules inline directives, loaded in
	// that order after the CRS's rules: rule updates by id or tag, and
	// rules of one's own.
	RuleFiles []plugins.FilePath `yaml:"rule_files"`
	Rules     []string           `yaml:"rules"`
}

// CRS are the OWASP Core Rule Set's settings, which the CRS reads from its
// tx variables.
type CRS struct {
	// Paranoia is the blocking paranoia level, 1 (the default) to 4:
	// higher levels run more rules and catch more, with more false
	// positives.
	Paranoia int `yaml:"paranoia"`
	// ExecutingParanoia runs the rules of levels above Paranoia too,
	// logging their matches without counting them toward a block, to try
	// a higher level out. Default: Paranoia.
	ExecutingParanoia int `yaml:"executing_paranoia"`
	// Promote are rules of higher paranoia levels, by id, that run and
	// count toward a block at this profile's level, while the other
	// rules of their levels stay off. Left out, a profile at paranoia
	// level 1 promotes DefaultPromoted (nine precise level-2 rules);
	// `promote: []` runs the stock level alone. A profile whose
	// executing_paranoia is above its paranoia promotes nothing.
	Promote []int `yaml:"promote"`
	// InboundThreshold (default 5) and OutboundThreshold (default 4) are
	// the anomaly scores at which a request or a response is blocked: a
	// critical match scores 5, an error 4, a warning 3, a notice 2.
	InboundThreshold  int `yaml:"inbound_threshold"`
	OutboundThreshold int `yaml:"outbound_threshold"`
	// AllowedMethods, AllowedContentTypes and AllowedHTTPVersions replace
	// the CRS's lists (GET HEAD POST OPTIONS; urlencoded and multipart
	// forms, XML and JSON; HTTP/1.0 to HTTP/3); RestrictedExtensions
	// replaces its list of file extensions that are refused (".bak",
	// ".sql" …). Left out, the CRS's own apply.
	AllowedMethods       []string `yaml:"allowed_methods"`
	AllowedContentTypes  []string `yaml:"allowed_content_types"`
	AllowedHTTPVersions  []string `yaml:"allowed_http_versions"`
	RestrictedExtensions []string `yaml:"restricted_extensions"`
	// ApplicationExclusions are the CRS's exclusion packages for
	// applications (wordpress, nextcloud, drupal …), by application
	// name: the CRS plugin <name>-rule-exclusions, from the section's
	// crs_plugin_dir. Plugins are other CRS plugins there, by full name.
	ApplicationExclusions []string `yaml:"application_exclusions"`
	Plugins               []string `yaml:"plugins"`
}

// Limits bound what one request may make the rules inspect. The rules
// read each value of a request in turn, so its cost grows with the values
// and, more slowly, with their bytes: about 0.4 ms a value at paranoia
// level 1 (see the README), so these bound its time.
type Limits struct {
	// InspectedBytes bounds the bytes the rules read: header names and
	// values, the query, and the request body except the contents of
	// uploaded files. Default 64KiB.
	InspectedBytes Size `yaml:"inspected_bytes"`
	// Args bounds the values the rules read one by one: query, form,
	// multipart, JSON and XML values, header fields and cookies.
	// Default 256.
	Args int `yaml:"args"`
	// Depth bounds the nesting of JSON and XML bodies. Default 32.
	Depth int `yaml:"depth"`
}

// Response turns the response phases on.
type Response struct {
	// Inspect runs the response rules (data leakage, web shells) on the
	// response's status and headers, and on the bodies of MimeTypes.
	Inspect bool `yaml:"inspect"`
	// MimeTypes are the media types whose bodies are read (default
	// text/html, text/plain, application/json); others stream through
	// unread.
	MimeTypes []string `yaml:"mime_types"`
	// BodyLimit bounds the body read (default 512KiB); BodyLimitAction
	// says what becomes of a longer one: inspect_partial (the default:
	// the first BodyLimit bytes are inspected, the rest passes) or reject
	// (502).
	BodyLimit       Size   `yaml:"body_limit"`
	BodyLimitAction string `yaml:"body_limit_action"`
}

// Exclusion turns rules off: those of IDs (numbers, or ranges such as
// 942100-942199) and Tags (attack-sqli, paranoia-level/2 …), for the whole
// request or, with Target, for one variable (ARGS:password,
// REQUEST_COOKIES:session, REQUEST_HEADERS:User-Agent), everywhere or, with
// Path or PathPrefix, on the matching paths alone.
type Exclusion struct {
	IDs        []string `yaml:"ids"`
	Tags       []string `yaml:"tags"`
	Target     string   `yaml:"target"`
	Path       string   `yaml:"path"`
	PathPrefix string   `yaml:"path_prefix"`
}
