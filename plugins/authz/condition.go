package authz

import (
	"fmt"
	"strings"
)

// The condition keys of Istio's `when`, as pkg/config/security names them.
const (
	keyHeader          = "request.headers"
	keySourceIP        = "source.ip"
	keyRemoteIP        = "remote.ip"
	keySourceNamespace = "source.namespace"
	keySourceSA        = "source.serviceAccount"
	keySourcePrincipal = "source.principal"
	keySourceTD        = "source.trustDomain"
	keyAuthPrincipal   = "request.auth.principal"
	keyAuthAudiences   = "request.auth.audiences"
	keyAuthPresenter   = "request.auth.presenter"
	keyAuthClaims      = "request.auth.claims"
	keyDestIP          = "destination.ip"
	keyDestPort        = "destination.port"
	keySNI             = "connection.sni"
	keyExperimental    = "experimental.envoy.filters."
)

// validateCondition checks one `when` entry as istiod does.
func validateCondition(p *problems, c Condition) {
	key := c.Key.S
	if key == "" {
		p.atStr(c.Key, "`key` must not be empty")
		return
	}
	if len(c.Values) == 0 && len(c.NotValues) == 0 {
		p.atStr(c.Key, "at least one of `values` or `notValues` must be set for key %s", key)
		return
	}
	for _, side := range []struct {
		name string
		vals []str
	}{{"value", c.Values}, {"notValue", c.NotValues}} {
		if msg := attributeError(key, side.vals); msg != "" {
			at := c.Key
			if len(side.vals) > 0 {
				at = side.vals[0]
			}
			p.atStr(at, "invalid `%s` for `key` %s: %s", side.name, key, msg)
		}
	}
	if strings.HasPrefix(key, keyExperimental) && attributeError(key, nil) == "" {
		p.atStr(c.Key, "key %s reads an Envoy filter's dynamic metadata, which this gateway does not have; "+
			"Istio keeps no compatibility promise for experimental keys, and the gateway refuses them rather than guess", key)
	}
}

// attributeError is Istio's ValidateAttribute: why values do not suit key,
// or "".
func attributeError(key string, vals []str) string {
	for _, v := range vals {
		if v.S == "" {
			return "empty value not allowed, found in " + key
		}
	}
	switch {
	case strings.HasPrefix(key, keyHeader):
		if msg := mapKeyError(key); msg != "" {
			return msg
		}
		if !strings.HasPrefix(key, keyHeader+"[") {
			// Istio accepts the key and drops the rule when it builds it.
			return fmt.Sprintf("bad key (%s): want %s[<name>]", key, keyHeader)
		}
	case key == keySourceIP, key == keyRemoteIP, key == keyDestIP:
		p := &problems{}
		checkIPs(p, vals)
		if len(p.errs) > 0 {
			return p.errs[0].Msg
		}
	case key == keySourceSA:
		p := &problems{}
		checkServiceAccounts(p, nil, key, vals)
		if len(p.errs) > 0 {
			return p.errs[0].Msg
		}
	case key == keySourceTD:
		p := &problems{}
		checkWildcards(p, key, vals)
		if len(p.errs) > 0 {
			return p.errs[0].Msg
		}
	case key == keySourceNamespace, key == keySourcePrincipal, key == keyAuthPrincipal,
		key == keyAuthAudiences, key == keyAuthPresenter, key == keySNI:
	case strings.HasPrefix(key, keyAuthClaims):
		if msg := mapKeyError(key); msg != "" {
			return msg
		}
		if !strings.HasPrefix(key, keyAuthClaims+"[") {
			// Istio accepts the key and drops the rule when it builds it.
			return fmt.Sprintf("bad key (%s): want %s[<name>]", key, keyAuthClaims)
		}
	case key == keyDestPort:
		p := &problems{}
		checkPorts(p, vals)
		if len(p.errs) > 0 {
			return p.errs[0].Msg
		}
	case strings.HasPrefix(key, keyExperimental):
		return mapKeyError(key)
	case key == "destination.namespace":
		return fmt.Sprintf("attribute %s is replaced by the metadata.namespace", key)
	case strings.HasPrefix(key, "destination.labels"):
		return fmt.Sprintf("attribute %s is replaced by the workload selector", key)
	case key == "destination.name", key == "destination.user":
		return fmt.Sprintf("deprecated attribute %s: only supported in v1alpha1", key)
	default:
		return "unknown attribute: " + key
	}
	return ""
}

// mapKeyError is Istio's validateMapKey: a key of the form a[b].
func mapKeyError(key string) string {
	open := strings.Index(key, "[")
	if strings.HasSuffix(key, "]") && open > 0 && open < len(key)-2 {
		return ""
	}
	return fmt.Sprintf("bad key (%s): should have format a[b]", key)
}

// claimPath splits request.auth.claims[a][b] into [a b] as Istio's
// extractNameInNestedBrackets does: when the brackets do not nest as
// [a][b]…, the whole of [<name>] is one claim's name (claims[a[b]] is the
// claim "a[b]"). It is nil when the key is not of either form.
func claimPath(key string) []string {
	s := strings.TrimPrefix(key, keyAuthClaims)
	var out []string
	for begin := 0; begin < len(s); {
		end := -1
		if s[begin] == '[' {
			for i := begin + 1; i < len(s) && s[i] != '['; i++ {
				if s[i] == ']' {
					end = i
					break
				}
			}
		}
		if end < 0 {
			if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
				return nil
			}
			return []string{s[1 : len(s)-1]}
		}
		out = append(out, s[begin+1:end])
		begin = end + 1
	}
	return out
}
