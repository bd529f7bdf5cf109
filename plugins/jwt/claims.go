package jwt

import (
	"math"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// claimHeader copies one claim to a request header.
type claimHeader struct {
	header string
	path   []string // the claim's name split at '.', for nested claims
}

// lookupClaim finds a claim by its path through nested objects.
func lookupClaim(claims map[string]any, path []string) (any, bool) {
	var cur any = claims
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// claimValue writes a claim as Envoy's claim_to_headers does: a string as
// it is, a whole number without a fraction, other numbers as C's
// std::to_string writes them, a bool as true or false; other types (lists,
// objects, null) give no header. A value that is no valid header value
// gives none either.
func claimValue(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		if x >= 0 && x < math.MaxUint64 && x == math.Trunc(x) {
			s = strconv.FormatUint(uint64(x), 10)
		} else {
			s = strconv.FormatFloat(x, 'f', 6, 64)
		}
	case bool:
		s = strconv.FormatBool(x)
	default:
		return "", false
	}
	return s, s != "" && httpguts.ValidHeaderFieldValue(s)
}

// audienceAllowed is jwt_verify_lib's CheckAudience: with no audiences
// configured every token passes; otherwise one of the token's must be one
// of them, both compared without an http:// or https:// scheme and without
// a trailing slash.
func audienceAllowed(allowed, aud []string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, a := range aud {
		a = sanitizeAudience(a)
		for _, b := range allowed {
			if a == b {
				return true
			}
		}
	}
	return false
}

func sanitizeAudience(a string) string {
	if strings.HasPrefix(a, "http://") {
		a = a[len("http://"):]
	} else if strings.HasPrefix(a, "https://") {
		a = a[len("https://"):]
	}
	return strings.TrimSuffix(a, "/")
}

// spaceDelimited are the claims Istio always splits at spaces for
// request.auth.claims (scope and permission); a rule's
// spaceDelimitedClaims add to them.
var spaceDelimited = []string{"scope", "permission"}

// splitClaims returns claims with each named top-level string claim that
// holds a space split into a list of its words, as Istio presents OAuth
// scopes to AuthorizationPolicy. The payload itself is not changed.
func splitClaims(claims map[string]any, names []string) map[string]any {
	var out map[string]any
	for _, n := range names {
		s, ok := claims[n].(string)
		if !ok || !strings.Contains(s, " ") {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(claims))
			for k, v := range claims {
				out[k] = v
			}
		}
		words := strings.Fields(s)
		list := make([]any, len(words))
		for i, w := range words {
			list[i] = w
		}
		out[n] = list
	}
	if out == nil {
		return claims
	}
	return out
}
