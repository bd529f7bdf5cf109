package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

func validateFlags(*flag.FlagSet) func([]string, io.Writer, io.Writer) int {
	return validate
}

// validate loads each file as serve would, without opening a socket, and
// reports every error of every file, and every warning (which does not
// change the exit status). It exits 1 if any file has an error.
func validate(files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		fmt.Fprintln(stderr, "portcullis validate: no file given")
		return 2
	}
	reg, err := registry(waf.New(waf.Options{}), authz.New(nil))
	if err != nil {
		fmt.Fprintln(stderr, "portcullis:", err)
		return 2
	}
	code := 0
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil && isPolicyFile(data) {
			if !validatePolicies(f, data, stdout, stderr) {
				code = 1
			}
			continue
		}
		cfg, err := routes.Load(f, reg)
		if err != nil {
			code = 1
			var errs routes.Errors
			if errors.As(err, &errs) {
				for _, e := range errs {
					fmt.Fprintln(stderr, e)
				}
			} else {
				fmt.Fprintf(stderr, "%s: %v\n", f, err)
			}
			continue
		}
		for _, w := range cfg.Warnings() {
			fmt.Fprintf(stderr, "%s: warning: %s\n", f, w)
		}
		policyWarnings(cfg, stderr)
		fmt.Fprintln(stdout, cfg.Summary())
		cfg.Close()
	}
	return code
}

// isPolicyFile tells a file of Kubernetes documents (Istio's policies) from
// a routes file by its content: its first document is a mapping with
// apiVersion and kind, which no routes file has.
func isPolicyFile(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return false
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" {
			continue // an empty document before the first
		}
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode {
			return false
		}
		keys := map[string]bool{}
		for i := 0; i+1 < len(root.Content); i += 2 {
			keys[root.Content[i].Value] = true
		}
		return keys["apiVersion"] && keys["kind"]
	}
}

// validatePolicies checks one file of policy documents as the gateway
// loads it: every error with file:line:column, then its warnings.
func validatePolicies(f string, data []byte, stdout, stderr io.Writer) bool {
	var s authz.Set
	if err := s.Parse(f, data); err != nil {
		for _, e := range err.(authz.Errors) {
			fmt.Fprintln(stderr, e)
		}
		return false
	}
	if _, err := authz.Compile(&s, authz.Mesh{}); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", f, err)
		return false
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(stderr, "%s:%d:%d: warning: %s\n", w.File, w.Line, w.Col, w.Msg)
	}
	fmt.Fprintf(stdout, "%s: %d AuthorizationPolicy, %d RequestAuthentication\n", f, len(s.Policies), len(s.RequestAuthentications))
	return true
}

// policyWarnings prints the warnings of the policy files a routes file
// loaded.
func policyWarnings(cfg *routes.Config, stderr io.Writer) {
	if len(cfg.PolicyFiles) == 0 {
		return
	}
	s, _, err := authz.Load(cfg.PolicyFiles, authz.Mesh{})
	if err != nil {
		return // it loaded once already; a file changed since is the next load's to report
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(stderr, "%s:%d:%d: warning: %s\n", w.File, w.Line, w.Col, w.Msg)
	}
}
