package jwt

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// maxJWTRules is Istio's bound on a document's jwtRules (the CRD's
// maxItems).
const maxJWTRules = 4096

// spec is a RequestAuthentication's spec, as Istio's security/v1beta1
// request_authentication.proto writes it (v1 is the same message).
type spec struct {
	Selector   *selector   `yaml:"selector"`
	TargetRef  *targetRef  `yaml:"targetRef"`
	TargetRefs []targetRef `yaml:"targetRefs"`
	JWTRules   []*jwtRule  `yaml:"jwtRules"`
}

type selector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type targetRef struct {
	Group     string `yaml:"group"`
	Kind      string `yaml:"kind"`
	Name      string `yaml:"name"`
	Namespace string `yaml:"namespace"`
}

// jwtRule is one JWTRule: how to find, check and pass on the tokens of one
// issuer.
type jwtRule struct {
	Issuer                string            `yaml:"issuer"`
	Audiences             []string          `yaml:"audiences"`
	JwksURI               string            `yaml:"jwksUri"`
	Jwks                  string            `yaml:"jwks"`
	FromHeaders           []*headerLocation `yaml:"fromHeaders"`
	FromParams            []string          `yaml:"fromParams"`
	FromCookies           []string          `yaml:"fromCookies"`
	OutputPayloadToHeader string            `yaml:"outputPayloadToHeader"`
	ForwardOriginalToken  bool              `yaml:"forwardOriginalToken"`
	OutputClaimToHeaders  []*claimToHeader  `yaml:"outputClaimToHeaders"`
	SpaceDelimitedClaims  []string          `yaml:"spaceDelimitedClaims"`
	Timeout               string            `yaml:"timeout"`
}

type headerLocation struct {
	Name   string `yaml:"name"`
	Prefix string `yaml:"prefix"`
}

type claimToHeader struct {
	Header string `yaml:"header"`
	Claim  string `yaml:"claim"`
}

// Error is a fault in one RequestAuthentication document, at the line and
// column of the field at fault in its file.
type Error struct {
	File         string
	Line, Column int
	// Document is namespace/name of the RequestAuthentication.
	Document string
	// Field is the path of the field at fault within the spec, such as
	// jwtRules[0].issuer; empty for the spec as a whole.
	Field string
	Msg   string
}

// Error reports the position, the document, the field and the fault.
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message())
}

// Position is where the fault is, for a caller that reports errors of
// several files in its own format.
func (e *Error) Position() (file string, line, col int) { return e.File, e.Line, e.Column }

// Message is the error without its position: the document, the field and
// the fault.
func (e *Error) Message() string {
	var b strings.Builder
	b.WriteString("RequestAuthentication " + e.Document + ": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// specFile is one document's spec being decoded: its syntax tree, to find
// where a field stands, and the errors found so far.
type specFile struct {
	doc  *Document
	ast  *ast.File
	errs []error
}

// decodeSpec decodes doc's spec strictly (unknown keys are errors) and
// validates it as istiod does, with Istio's wording where it has one.
func decodeSpec(doc *Document) (*spec, []error) {
	f := &specFile{doc: doc}
	var sp spec
	if len(strings.TrimSpace(string(doc.Spec))) == 0 {
		return &sp, nil
	}
	tree, err := parser.ParseBytes(doc.Spec, 0)
	if err == nil {
		f.ast = tree
		if len(tree.Docs) == 1 && tree.Docs[0].Body != nil {
			err = yaml.NodeToValue(tree.Docs[0].Body, &sp, yaml.Strict())
		}
	}
	if err != nil {
		f.yamlError(err)
		return nil, f.errs
	}
	f.validate(&sp)
	return &sp, f.errs
}

// yamlError records a decoding error at the token it names.
func (f *specFile) yamlError(err error) {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		p := ye.GetToken().Position
		f.errs = append(f.errs, f.errAt(p.Line, p.Column, "", ye.GetMessage()))
		return
	}
	f.errs = append(f.errs, f.errAt(1, 1, "", err.Error()))
}

// errAt builds an error at a line and column of the spec.
func (f *specFile) errAt(line, col int, field, msg string) *Error {
	base := f.doc.Line
	if base < 1 {
		base = 1
	}
	return &Error{
		File: f.doc.File, Line: base + line - 1, Column: col,
		Document: f.doc.Namespace + "/" + f.doc.Name, Field: field, Msg: msg,
	}
}

// fail records an error about the field at path (jwtRules[0].issuer), at
// the line of that field or, when it is absent, of its nearest parent.
func (f *specFile) fail(path, format string, args ...any) {
	line, col := f.position(path)
	f.errs = append(f.errs, f.errAt(line, col, path, fmt.Sprintf(format, args...)))
}

// position finds the line and column of the field at path in the spec.
func (f *specFile) position(path string) (int, int) {
	for p := path; p != "" && f.ast != nil; {
		if yp, err := yaml.PathString("$." + p); err == nil {
			if n, err := yp.FilterFile(f.ast); err == nil && n != nil && n.GetToken() != nil {
				pos := n.GetToken().Position
				return pos.Line, pos.Column
			}
		}
		if i := strings.LastIndexAny(p, ".["); i >= 0 {
			p = p[:i]
		} else {
			p = ""
		}
	}
	return 1, 1
}
