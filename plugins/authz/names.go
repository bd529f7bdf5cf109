package authz

import "strings"

// dnsLabel checks a namespace as Kubernetes does (RFC 1123 label) and says
// what is wrong, or "".
func dnsLabel(s string) string {
	if len(s) > 63 {
		return "must be no more than 63 characters"
	}
	if !labelChars(s) {
		return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', " +
			"and must start and end with an alphanumeric character"
	}
	return ""
}

// dnsSubdomain checks a name as Kubernetes does (RFC 1123 subdomain).
func dnsSubdomain(s string) string {
	if len(s) > 253 {
		return "must be no more than 253 characters"
	}
	for _, l := range strings.Split(s, ".") {
		if !labelChars(l) {
			return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
				"and must start and end with an alphanumeric character"
		}
	}
	return ""
}

func labelChars(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
