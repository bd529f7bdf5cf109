package authz

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Kinds the loader reads; any other kind is refused (see decodeDocument).
const (
	KindAuthorizationPolicy   = "AuthorizationPolicy"
	KindRequestAuthentication = "RequestAuthentication"
)

// apiVersions are the versions of one message: v1 and v1beta1 are the same
// proto, only the CRD's version string differs.
var apiVersions = []string{"security.istio.io/v1", "security.istio.io/v1beta1"}

// MaxFileBytes bounds one policy file, as the routes file is bounded.
const MaxFileBytes = 8 << 20

// Set is the documents of one or more policy files, validated.
type Set struct {
	Policies []*Policy
	// RequestAuthentications are kept for the jwt plugin, which decodes
	// their specs itself.
	RequestAuthentications []*RequestAuthentication
	// Warnings are what istiod warns about (a DENY rule of HTTP fields
	// only) and what the gateway reads differently from Istio.
	Warnings Errors

	seen map[string]string // kind/ns/name → file:line
}

// Parse reads the YAML documents of one file into s, validating each.
// Every problem of the file is returned at once, as Errors.
func (s *Set) Parse(name string, data []byte) error {
	if len(data) > MaxFileBytes {
		return Errors{{File: name, Msg: fmt.Sprintf("the file is %d bytes, more than the %d a policy file may hold", len(data), MaxFileBytes)}}
	}
	p := &problems{file: name, budget: expansionBudget(len(data))}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.errs = append(p.errs, &Error{File: name, Msg: "YAML: " + err.Error()})
			break
		}
		if len(doc.Content) == 0 || isNull(doc.Content[0]) {
			continue
		}
		s.decodeDocument(p, doc.Content[0])
	}
	if len(p.errs) > 0 {
		return Errors(p.errs)
	}
	return nil
}

// decodeDocument reads one document. A kind other than AuthorizationPolicy
// and RequestAuthentication is an error rather than skipped: a file of
// policies is the gateway's security configuration, and a document it
// silently passed over (a PeerAuthentication, or a misspelt kind) would
// leave workloads unguarded while its author believes them guarded.
func (s *Set) decodeDocument(p *problems, root *yaml.Node) {
	fs := p.fields(root, "document", "apiVersion", "kind", "metadata", "spec", "status")
	if fs == nil {
		return
	}
	kind, _ := p.required(root, fs, "kind")
	version, _ := p.required(root, fs, "apiVersion")
	switch kind.S {
	case KindAuthorizationPolicy, KindRequestAuthentication:
	case "":
		return
	default:
		p.atStr(kind, "kind %q is not read by the gateway: a policy file holds AuthorizationPolicy and RequestAuthentication documents", kind.S)
		return
	}
	if version.S != "" && !contains(apiVersions, version.S) {
		p.atStr(version, "apiVersion %q: want security.istio.io/v1 or security.istio.io/v1beta1", version.S)
		return
	}
	meta := s.metadata(p, root, fs["metadata"])
	if meta.name == "" {
		return
	}
	key := kind.S + "/" + meta.namespace + "/" + meta.name
	here := fmt.Sprintf("%s:%d", p.file, root.Line)
	if s.seen == nil {
		s.seen = make(map[string]string)
	}
	if prev, dup := s.seen[key]; dup {
		p.at(root, "%s %s/%s is also defined at %s", kind.S, meta.namespace, meta.name, prev)
		return
	}
	s.seen[key] = here
	spec := fs["spec"]
	if kind.S == KindRequestAuthentication {
		if meta.dryRunSet {
			p.atStr(meta.dryRun, "%s/%s has unsupported annotation %s, please remove the annotation", meta.namespace, meta.name, annotationDryRun)
		}
		s.requestAuthentication(p, root, meta, spec)
		return
	}
	before := len(p.errs)
	pol := &Policy{File: p.file, Line: root.Line, Name: meta.name, Namespace: meta.namespace}
	decodeSpec(p, pol, spec)
	if len(p.errs) > before {
		prefixErrors(p.errs[before:], pol)
		return
	}
	if meta.dryRunSet {
		pol.DryRun = readDryRun(p, pol, meta.dryRun)
	}
	w := &problems{file: p.file}
	validate(p, w, pol, spec)
	prefixErrors(p.errs[before:], pol)
	prefixErrors(w.errs, pol)
	s.Warnings = append(s.Warnings, w.errs...)
	if len(p.errs) == before {
		s.Policies = append(s.Policies, pol)
	}
}

// prefixErrors names the policy in each message, as istiod's "invalid
// policy <name>.<namespace>:" does.
func prefixErrors(errs []*Error, pol *Policy) {
	for _, e := range errs {
		e.Msg = fmt.Sprintf("AuthorizationPolicy %s/%s: %s", pol.Namespace, pol.Name, e.Msg)
	}
}

// required reads a string field that must be there.
func (p *problems) required(parent *yaml.Node, fs map[string]*yaml.Node, key string) (str, bool) {
	n, ok := fs[key]
	if !ok || isNull(n) {
		p.at(parent, "%s: required value", key)
		return str{}, false
	}
	s, ok := p.str(n, key)
	if ok && s.S == "" {
		p.at(n, "%s: required value", key)
		return s, false
	}
	return s, ok
}

type meta struct {
	name, namespace string
	// dryRun is the istio.io/dry-run annotation, dryRunSet whether it is
	// there at all.
	dryRun    str
	dryRunSet bool
}

// metadata reads the fields of metadata the gateway uses; the others
// (labels, uid, resourceVersion …) are Kubernetes' and are let through.
func (s *Set) metadata(p *problems, root, n *yaml.Node) meta {
	if n == nil || isNull(n) {
		p.at(root, "metadata: required value")
		return meta{}
	}
	fs := p.fields(n, "metadata")
	if fs == nil {
		return meta{}
	}
	var m meta
	if name, ok := p.required(n, fs, "name"); ok {
		if msg := dnsSubdomain(name.S); msg != "" {
			p.atStr(name, "metadata.name: %s", msg)
		} else {
			m.name = name.S
		}
	}
	m.namespace = "default"
	if ns, ok := fs["namespace"]; ok && !isNull(ns) {
		if v, ok := p.str(ns, "metadata.namespace"); ok {
			if msg := dnsLabel(v.S); msg != "" {
				p.atStr(v, "metadata.namespace: %s", msg)
				m.name = ""
			} else {
				m.namespace = v.S
			}
		}
	}
	if a, ok := fs["annotations"]; ok && !isNull(a) {
		if afs := p.fields(a, "metadata.annotations"); afs != nil {
			for k, v := range afs {
				s, ok := p.str(v, "metadata.annotations."+k)
				if ok && k == annotationDryRun {
					m.dryRun, m.dryRunSet = s, true
				}
			}
		}
	}
	if l, ok := fs["labels"]; ok {
		p.strMap(l, "metadata.labels")
	}
	return m
}

// annotationDryRun marks a policy that is evaluated and logged, never
// enforced.
const annotationDryRun = "istio.io/dry-run"

// readDryRun reads the dry-run annotation as istiod does: any value
// strconv.ParseBool takes, on an ALLOW or DENY policy only. A value it
// refuses is an error, not "false": a policy its author meant to try out
// must not be enforced by a typo.
func readDryRun(p *problems, pol *Policy, v str) bool {
	if pol.Action != Allow && pol.Action != Deny {
		p.atStr(v, "the annotation %s currently only supports action ALLOW/DENY, found action %s in %s/%s",
			annotationDryRun, pol.Action, pol.Namespace, pol.Name)
		return false
	}
	b, err := strconv.ParseBool(v.S)
	if err != nil {
		p.atStr(v, "%s/%s has annotation %s with invalid value (%s): %v", pol.Namespace, pol.Name, annotationDryRun, v.S, err)
	}
	return b
}

// requestAuthentication keeps a RequestAuthentication for the jwt plugin:
// its attachment is read here, its spec left as YAML.
func (s *Set) requestAuthentication(p *problems, root *yaml.Node, m meta, spec *yaml.Node) {
	ra := &RequestAuthentication{File: p.file, Line: root.Line, Name: m.name, Namespace: m.namespace}
	if spec != nil && !isNull(spec) {
		fs := p.fields(spec, "spec")
		if sel, ok := fs["selector"]; ok && !isNull(sel) {
			ra.Selector = p.selector(sel)
		}
		var forms int
		if ra.TargetRefs, forms = targetRefs(fs); forms > 1 {
			p.at(spec, "RequestAuthentication %s/%s: only one of targetRefs or workloadSelector can be set", m.namespace, m.name)
		}
		b, err := yaml.Marshal(spec)
		if err != nil {
			p.at(spec, "spec: %v", err)
		}
		ra.Spec = b
	}
	s.RequestAuthentications = append(s.RequestAuthentications, ra)
}
