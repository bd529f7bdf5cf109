//go:build !race

package waf

import re2 "github.com/wasilibs/go-re2"

// compileRx compiles a pattern for RE2.
func compileRx(expr string) (matcher, error) { return re2.Compile(expr) }
