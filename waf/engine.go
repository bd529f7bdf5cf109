package waf

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/types"
)

// engine is one Coraza WAF, built from one profile's directives and shared
// by every route of a load that names a profile with those directives.
// Whoever uses it holds a reference: the scope that built it until every
// chain of the load is built, and each route's handler until its Close. The
// last release closes it.
type engine struct {
	waf  coraza.WAF
	refs atomic.Int64
	// done runs once the last reference is gone.
	done func()
}

func (e *engine) acquire() *engine {
	e.refs.Add(1)
	return e
}

func (e *engine) release() {
	if e.refs.Add(-1) != 0 {
		return
	}
	if c, ok := e.waf.(experimental.WAFCloser); ok {
		_ = c.Close() // it only drops Coraza's caches
	}
	if e.done != nil {
		e.done()
	}
}

// compile builds a WAF from chunks. When Coraza refuses one, the error
// names the chunk at fault, found by building ever shorter prefixes (each
// build with the CRS takes a fraction of a second, and this is only done
// for a profile that does not load).
func compile(chunks []chunk, log *errorLog) (coraza.WAF, error) {
	w, err := newWAF(chunks, log)
	if err == nil {
		return w, nil
	}
	var fallible []int
	for i, c := range chunks {
		if c.field != "" {
			fallible = append(fallible, i)
		}
	}
	// The first chunk whose prefix fails is the one at fault: a prefix
	// that holds it fails, one that does not builds.
	lo, hi := 0, len(fallible)
	failed := err
	for lo < hi {
		mid := (lo + hi) / 2
		if _, perr := newWAF(chunks[:fallible[mid]+1], nil); perr != nil {
			hi, failed = mid, perr
		} else {
			lo = mid + 1
		}
	}
	if lo == len(fallible) {
		return nil, err // not one of the profile's own directives
	}
	c := chunks[fallible[lo]]
	return nil, &fieldErr{c.field, fmt.Errorf("%s%w", c.where(), cleanError(failed))}
}

func newWAF(chunks []chunk, log *errorLog) (coraza.WAF, error) {
	cfg := coraza.NewWAFConfig().WithRootFS(rootFS{stock: updatesTransformations(chunks)})
	if log != nil {
		cfg = cfg.WithErrorCallback(func(r types.MatchedRule) { log.write(r.ErrorLog()) })
	}
	var own strings.Builder
	for _, c := range chunks {
		if c.field == "" {
			own.WriteString(c.text)
			own.WriteByte('\n')
			continue
		}
		if own.Len() > 0 {
			cfg = cfg.WithDirectives(own.String())
			own.Reset()
		}
		// Apart, so that a continuation left open at its end cannot
		// join it to the next one.
		cfg = cfg.WithDirectives(c.text)
	}
	if own.Len() > 0 {
		cfg = cfg.WithDirectives(own.String())
	}
	return coraza.NewWAF(cfg)
}

// updatesTransformations reports whether a profile's directives may change
// a rule's transformations (SecRuleUpdateActionById with a t: action):
// those add to the transformations Coraza runs before the operator, so
// the CRS is then read as shipped (see fused.go).
func updatesTransformations(chunks []chunk) bool {
	for _, c := range chunks {
		l := strings.ToLower(c.text)
		if i := strings.Index(l, "secruleupdateaction"); i >= 0 && strings.Contains(l[i:], "t:") {
			return true
		}
	}
	return false
}

// where says where in its field or file a chunk starts, for messages.
func (c chunk) where() string {
	switch {
	case c.file != "":
		return fmt.Sprintf("%s:%d: ", c.file, c.line)
	case c.line > 0:
		return fmt.Sprintf("line %d: ", c.line)
	}
	return ""
}

// cleanError drops the prefix Coraza puts before every error of a
// configuration.
func cleanError(err error) error {
	return errors.New(strings.TrimPrefix(err.Error(), "invalid WAF config from string: "))
}
