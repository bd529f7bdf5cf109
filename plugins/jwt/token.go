package jwt

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Envoy's words for why a token failed (jwt_verify_lib's status strings):
// the body of the 401 and, with '_' for ' ', the access log's details.
const (
	statusBadFormat        = "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"
	statusHeaderBase64     = "Jwt header is an invalid Base64url encoded"
	statusHeaderJSON       = "Jwt header is an invalid JSON"
	statusHeaderBadAlg     = "Jwt header [alg] field is required and must be a string"
	statusAlgNotSupported  = "Jwt header [alg] is not supported"
	statusHeaderBadKid     = "Jwt header [kid] field is not a string"
	statusPayloadBase64    = "Jwt payload is an invalid Base64url encoded"
	statusPayloadJSON      = "Jwt payload is an invalid JSON"
	statusIssNotString     = "Jwt payload [iss] field is not a string"
	statusSubNotString     = "Jwt payload [sub] field is not a string"
	statusIatNotInteger    = "Jwt payload [iat] field is not an integer"
	statusNbfNotInteger    = "Jwt payload [nbf] field is not an integer"
	statusExpNotInteger    = "Jwt payload [exp] field is not an integer"
	statusJtiNotString     = "Jwt payload [jti] field is not a string"
	statusAudNotString     = "Jwt payload [aud] field is not a string or string list"
	statusSignatureBase64  = "Jwt signature is an invalid Base64url encoded"
	statusUnknownIssuer    = "Jwt issuer is not configured"
	statusAudience         = "Audiences in Jwt are not allowed"
	statusVerificationFail = "Jwt verification fails"
	statusNotYetValid      = "Jwt not yet valid"
	statusExpired          = "Jwt is expired"
	statusMultipleTokens   = "Found multiple Jwt tokens"
	statusKidAlgMismatch   = "Jwks doesn't have key to match kid or alg from Jwt"
	statusFetchFail        = "Jwks remote fetch is failed"
)

// implemented are the algorithms Envoy parses; those outside algorithms
// (HMAC) parse but never find a key.
var implemented = map[string]bool{
	"ES256": true, "ES384": true, "ES512": true,
	"HS256": true, "HS384": true, "HS512": true,
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"EdDSA": true,
}

// token is a parsed, not yet verified JWT.
type token struct {
	raw      string
	alg, kid string
	// payload is the payload segment as sent, base64url.
	payload  string
	claims   map[string]any
	iss, sub string
	aud      []string
	nbf, exp int64
	jws      *jose.JSONWebSignature // set by signed
}

// parseToken parses raw as Envoy's Jwt::parseFromString does, in its order,
// so that a malformed token fails with Envoy's status.
func parseToken(raw string) (*token, string) {
	if strings.Count(raw, ".") != 2 {
		return nil, statusBadFormat
	}
	h, p, s := split3(raw)
	if h == "" || p == "" || s == "" {
		return nil, statusBadFormat
	}
	t := &token{raw: raw, payload: p}
	hb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(h, "="))
	if err != nil {
		return nil, statusHeaderBase64
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr == nil {
		return nil, statusHeaderJSON
	}
	if !jsonString(hdr["alg"], &t.alg) || t.alg == "" {
		return nil, statusHeaderBadAlg
	}
	if !implemented[t.alg] {
		return nil, statusAlgNotSupported
	}
	if v, ok := hdr["kid"]; ok && !jsonString(v, &t.kid) {
		return nil, statusHeaderBadKid
	}
	pb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p, "="))
	if err != nil {
		return nil, statusPayloadBase64
	}
	if err := json.Unmarshal(pb, &t.claims); err != nil || t.claims == nil {
		return nil, statusPayloadJSON
	}
	if st := t.readClaims(); st != "" {
		return nil, st
	}
	if _, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
		return nil, statusSignatureBase64
	}
	return t, ""
}

// signed parses the token as a JWS for go-jose to verify, once its claims
// have passed: a token refused for its times or audience costs no more
// parsing. It fails for HMAC, whose tokens never find a key.
func (t *token) signed() string {
	if t.jws != nil {
		return ""
	}
	if !implementedWithKeys(t.alg) {
		return statusKidAlgMismatch
	}
	jws, err := jose.ParseSignedCompact(t.raw, algorithms)
	if err != nil {
		return statusVerificationFail
	}
	t.jws = jws
	return ""
}

func split3(s string) (a, b, c string) {
	a, rest, _ := strings.Cut(s, ".")
	b, c, _ = strings.Cut(rest, ".")
	return a, b, c
}

func implementedWithKeys(alg string) bool {
	for _, a := range algorithms {
		if string(a) == alg {
			return true
		}
	}
	return false
}

// readClaims reads the registered claims Envoy reads, with its checks of
// their types.
func (t *token) readClaims() string {
	if !claimString(t.claims, "iss", &t.iss) {
		return statusIssNotString
	}
	if !claimString(t.claims, "sub", &t.sub) {
		return statusSubNotString
	}
	var iat int64
	if !claimInt(t.claims, "iat", &iat) {
		return statusIatNotInteger
	}
	if !claimInt(t.claims, "nbf", &t.nbf) {
		return statusNbfNotInteger
	}
	if !claimInt(t.claims, "exp", &t.exp) {
		return statusExpNotInteger
	}
	var jti string
	if !claimString(t.claims, "jti", &jti) {
		return statusJtiNotString
	}
	switch a := t.claims["aud"].(type) {
	case nil:
	case string:
		t.aud = []string{a}
	case []any:
		for _, v := range a {
			s, ok := v.(string)
			if !ok {
				return statusAudNotString
			}
			t.aud = append(t.aud, s)
		}
	default:
		return statusAudNotString
	}
	return ""
}

func jsonString(raw json.RawMessage, out *string) bool {
	return raw != nil && json.Unmarshal(raw, out) == nil
}

// claimString reads an optional string claim; false when it has another
// type.
func claimString(c map[string]any, name string, out *string) bool {
	v, ok := c[name]
	if !ok {
		return true
	}
	*out, ok = v.(string)
	return ok
}

// claimInt reads an optional integer claim (a JSON number with no
// fraction; Envoy too reads it as a double); false when it is not one or is
// negative.
func claimInt(c map[string]any, name string, out *int64) bool {
	v, ok := c[name]
	if !ok {
		return true
	}
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || f < 0 || f >= math.MaxInt64 {
		return false
	}
	*out = int64(f)
	return true
}
