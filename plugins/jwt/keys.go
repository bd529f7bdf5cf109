package jwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// algorithms are the signature algorithms a token may use: Envoy's list
// less HMAC. A JWKS from an issuer holds public keys, and a token signed
// with HMAC under a public key's bytes is the classic forgery, so HS256/
// HS384/HS512 tokens never find a key. `none` is not an algorithm here.
var algorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// minRSABits is the smallest RSA modulus accepted: shorter keys can be
// factored, and tokens they sign forged.
const minRSABits = 2048

// key is one usable public key of a JWKS.
type key struct {
	kid string
	alg string // the key's own alg, or empty for any its type allows
	pub any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// keySet is a parsed JWKS, immutable once built.
type keySet struct {
	keys []key
	// at is when the set was fetched; zero for an inline set.
	at time.Time
}

// hasKid reports whether a key carries kid; a nil set has none.
func (ks *keySet) hasKid(kid string) bool {
	if ks == nil {
		return false
	}
	for i := range ks.keys {
		if ks.keys[i].kid == kid {
			return true
		}
	}
	return false
}

// parseJWKS parses a JSON Web Key Set and keeps its public signature keys.
// It refuses, each as one of skipped, a key it cannot use: a symmetric key
// (kty oct: an issuer's JWKS has no business holding one, and accepting it
// would let HMAC tokens in), an RSA key shorter than minRSABits, and a key
// of a type or curve it does not know. Encryption keys (use enc) are left
// out silently. err is set when the set is no JWKS or has no usable key.
func parseJWKS(data []byte) (ks *keySet, skipped []error, err error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, nil, fmt.Errorf("jwks is an invalid JSON: %v", err)
	}
	if raw.Keys == nil {
		return nil, nil, errors.New("jwks does not have [keys] field")
	}
	ks = &keySet{}
	for i, rk := range raw.Keys {
		k, use, err := parseKey(rk)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("key %d: %v", i, err))
		} else if use {
			ks.keys = append(ks.keys, k)
		}
	}
	if len(ks.keys) == 0 {
		if len(skipped) > 0 {
			return nil, skipped, fmt.Errorf("jwks doesn't have any valid public key: %s", oneLine(skipped))
		}
		return nil, nil, errors.New("jwks doesn't have any valid public key")
	}
	return ks, skipped, nil
}

// oneLine joins errors with "; ", for a message that must stay on its line.
func oneLine(errs []error) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// parseKey parses one JWK; use is false for a key that is not for
// signatures.
func parseKey(raw []byte) (key, bool, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return key{}, false, err
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return key{}, false, nil
	}
	var pub any
	switch k := jwk.Key.(type) {
	case *rsa.PublicKey:
		pub = k
	case *ecdsa.PublicKey, ed25519.PublicKey:
		pub = k
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	case ed25519.PrivateKey:
		pub = k.Public()
	case []byte:
		return key{}, false, errors.New("symmetric (oct) keys are not accepted")
	default:
		return key{}, false, fmt.Errorf("unsupported key type %T", jwk.Key)
	}
	if r, ok := pub.(*rsa.PublicKey); ok && r.N.BitLen() < minRSABits {
		return key{}, false, fmt.Errorf("an RSA key of %d bits is too weak, at least %d are required", r.N.BitLen(), minRSABits)
	}
	return key{kid: jwk.KeyID, alg: jwk.Algorithm, pub: pub}, true, nil
}

// fits reports whether k can check a signature made with alg: the key's
// own alg, when it names one, must be alg, and its type and curve must be
// those alg uses.
func (k *key) fits(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch p := k.pub.(type) {
	case *rsa.PublicKey:
		return alg[:2] == "RS" || alg[:2] == "PS"
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return p.Curve == elliptic.P256()
		case "ES384":
			return p.Curve == elliptic.P384()
		case "ES512":
			return p.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// verify checks the token's signature against the set as Envoy's
// jwt_verify_lib does: every key whose kid (when both have one) and alg fit
// is tried; none fitting is a kid or alg mismatch, none verifying a
// verification failure.
func (ks *keySet) verify(t *token) string {
	matched := false
	for i := range ks.keys {
		k := &ks.keys[i]
		if t.kid != "" && k.kid != "" && t.kid != k.kid {
			continue
		}
		if !k.fits(t.alg) {
			continue
		}
		matched = true
		if _, err := t.jws.Verify(k.pub); err == nil {
			return ""
		}
	}
	if !matched {
		return statusKidAlgMismatch
	}
	return statusVerificationFail
}
