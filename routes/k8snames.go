package routes

import (
	"errors"
	"fmt"
	"strings"
)

// The checks below are Kubernetes' own rules for the names and labels the
// routes file borrows from it (k8s.io/apimachinery's validation package),
// so that a value the file accepts is one a cluster could hold, and the
// metrics' labels line up with the series the cluster's sidecars write.

// dnsLabel checks a DNS-1123 label, as namespaces are named: lower-case
// letters, digits and '-', starting and ending with a letter or digit, at
// most 63 characters. letterFirst also asks for a letter first, as
// Services are named (DNS-1035).
func dnsLabel(s string, letterFirst bool) error {
	switch {
	case s == "":
		return errors.New("must not be empty")
	case len(s) > 63:
		return fmt.Errorf("%q is longer than 63 characters", s)
	case letterFirst && !('a' <= s[0] && s[0] <= 'z'):
		return fmt.Errorf("%q must start with a lower-case letter", s)
	case s[0] == '-' || s[len(s)-1] == '-':
		return fmt.Errorf("%q must start and end with a letter or digit", s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !lowerAlnum(c) && c != '-' {
			return fmt.Errorf("%q has %q: only lower-case letters, digits and '-' are allowed", s, c)
		}
	}
	return nil
}

// dnsSubdomain checks a DNS-1123 subdomain, as Deployments are named:
// DNS-1123 labels joined by dots, at most 253 characters.
func dnsSubdomain(s string) error {
	if len(s) > maxHostLen {
		return fmt.Errorf("%q is longer than %d characters", s, maxHostLen)
	}
	for l := range strings.SplitSeq(s, ".") {
		if err := dnsLabel(l, false); err != nil {
			if l == "" && s != "" {
				return fmt.Errorf("%q has an empty part between dots", s)
			}
			return err
		}
	}
	return nil
}

// labelValue checks a label's value: empty, or at most 63 letters, digits,
// '-', '_' and '.', starting and ending with a letter or digit.
func labelValue(s string) error {
	if s == "" {
		return nil
	}
	return labelName(s)
}

// labelName checks a label key's name part, which has a label value's form
// but may not be empty.
func labelName(s string) error {
	switch {
	case s == "":
		return errors.New("must not be empty")
	case len(s) > 63:
		return fmt.Errorf("%q is longer than 63 characters", s)
	case !isAlnum(s[0]) || !isAlnum(s[len(s)-1]):
		return fmt.Errorf("%q must start and end with a letter or digit", s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return fmt.Errorf("%q has %q: only letters, digits, '-', '_' and '.' are allowed", s, c)
		}
	}
	return nil
}

// labelKey checks a label's key: a name, with an optional prefix that is a
// DNS subdomain and a '/' (service.istio.io/canonical-name).
func labelKey(s string) error {
	prefix, name, prefixed := strings.Cut(s, "/")
	if !prefixed {
		return labelName(s)
	}
	if err := dnsSubdomain(prefix); err != nil {
		return fmt.Errorf("prefix: %w", err)
	}
	if err := labelName(name); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	return nil
}

func lowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
