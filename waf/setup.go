package waf

import (
	"maps"
	"slices"

	"github.com/portcullis-gw/portcullis/plugins"
)

// Name is the plugin's key in the routes file, both for its top-level
// section of profiles and for a route's `{ waf: <profile> }`.
const Name = "waf"

// Section is the routes file's top-level `waf:` block.
type Section struct {
	// Profiles are the named profiles that routes refer to. A profile
	// named default is always there (CRS at paranoia level 1, blocking)
	// unless the file defines its own.
	Profiles map[string]*Profile `yaml:"profiles"`
	// AuditLog writes Coraza's JSON audit log of the transactions that
	// were blocked, or would have been in detect mode.
	AuditLog AuditLog `yaml:"audit_log"`
	// CRSPluginDir is where CRS plugins are installed, as CRS's own
	// plugins/ folder holds them (<name>-config.conf, <name>-before.conf,
	// <name>-after.conf), for the profiles' crs.plugins and
	// crs.application_exclusions. The embedded CRS ships none.
	CRSPluginDir plugins.FilePath `yaml:"crs_plugin_dir"`

	// implicit is the default profile as newSection made it, to tell it
	// from one the file writes.
	implicit *Profile
}

// AuditLog says where the audit log goes.
type AuditLog struct {
	// Path is stdout, stderr, off (the default) or a file, reopened on
	// SIGUSR1 as the access log is.
	Path string `yaml:"path"`
}

// Use is a route's or virtual host's `{ waf: <profile> }`: the name of the
// profile whose engine inspects its requests. Left empty it is default.
type Use string

// newSection returns the section a routes file starts from: the default
// profile alone, with its defaults.
func newSection() *Section {
	implicit := new(Profile)
	return &Section{Profiles: map[string]*Profile{defaultProfile: implicit}, implicit: implicit}
}

// written returns the names of the profiles the routes file writes, sorted:
// all but the default profile that is there without being written.
func (s *Section) written() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(s.Profiles)) {
		if s.Profiles[name] != s.implicit {
			out = append(out, name)
		}
	}
	return out
}

// defaultProfile is the profile that exists without being defined.
const defaultProfile = "default"
