package waf

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

// rootFS is what Coraza's Include reads: the embedded CRS for names that
// start with '@' (@owasp_crs/…, @crs-setup.conf.example), and the files of
// the machine for absolute paths. A relative path is refused, since the
// directory it would be read from (the gateway's working directory) is not
// one a profile can know. The CRS's rule files are read with their
// rules written anew (fused.go), unless stock. gates, when set, learns
// the operators of the rules the gate reads (gate.go).
type rootFS struct {
	stock bool
	gates *gates
}

func (rootFS) Open(name string) (fs.File, error) {
	if crs, ok := crsName(name); ok {
		return coreruleset.FS.Open(crs)
	}
	if !filepath.IsAbs(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errRelative}
	}
	return os.Open(name)
}

func (r rootFS) ReadFile(name string) ([]byte, error) {
	if crs, ok := crsName(name); ok {
		if !r.stock && strings.HasPrefix(crs, "@owasp_crs/") && strings.HasSuffix(crs, ".conf") {
			return fusedCRS(crs)
		}
		return fs.ReadFile(coreruleset.FS, crs)
	}
	if !filepath.IsAbs(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errRelative}
	}
	return os.ReadFile(name)
}

// Glob lists the files an Include with a pattern names.
func (rootFS) Glob(pattern string) ([]string, error) {
	if crs, ok := crsName(pattern); ok {
		return fs.Glob(coreruleset.FS, crs)
	}
	if !filepath.IsAbs(pattern) {
		return nil, &fs.PathError{Op: "glob", Path: pattern, Err: errRelative}
	}
	return filepath.Glob(pattern)
}

// crsName returns the name of a file in the embedded CRS from a path that
// Coraza may have joined with the directory of the file including it.
func crsName(name string) (string, bool) {
	i := strings.IndexByte(name, '@')
	if i < 0 {
		return "", false
	}
	return name[i:], true
}

var errRelative = errorString("an Include outside the embedded CRS needs an absolute path")

// errorString is a constant error.
type errorString string

func (e errorString) Error() string { return string(e) }
