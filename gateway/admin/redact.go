package admin

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Redacted replaces each secret value in Redact's output.
const Redacted = "[redacted]"

// Redact returns v as a JSON tree (maps, slices, strings, json.Number,
// bools, nil) with secrets replaced by Redacted, for GET /config. v itself
// is not changed.
//
// A value is secret when:
//   - it is a string holding PEM ("-----BEGIN"), under any key: inline key
//     material (certificates too, which costs nothing to hide);
//   - or it is a non-empty string or a number under a key named, ignoring
//     case and with "-" read as "_", ending in secret, token, password,
//     passwd, private_key, api_key, authorization, cookie or credentials
//     (header names among them: x-api-key, set-cookie, proxy-authorization).
//     Everything beneath such a key is secret, so `secret: {value: …}` is
//     hidden too;
//   - or it is a string beside a "name" that is secret by the rule above,
//     as in a header match {name: x-api-key, exact: …}.
//
// Plugins' configurations come already shown through plugins.Display,
// which hides every field a plugin marks secret (every value the headers
// plugin writes among them); the rules here catch the rest.
//
// A key named just "key" is not secret: in the routes file it holds a file
// path (tls key: /etc/tls/edge.key) or a selector (rate_limit key:
// remote_ip), and the path is what an operator needs to see. Inline key
// material there is PEM and is caught by the first rule. A config type that
// holds a raw (non-PEM) secret must name its field by the second rule.
//
// Empty strings stay, since they show that a secret is unset and hide
// nothing. If v cannot be marshalled, Redact returns an object that says so
// rather than any part of v.
func Redact(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{"error": "config cannot be rendered as JSON: " + err.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep numbers as written, not as float64
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return map[string]any{"error": "config cannot be rendered as JSON: " + err.Error()}
	}
	return redact(tree, false)
}

// redact walks the tree in place; secret says that an enclosing key was a
// secret's.
func redact(v any, secret bool) any {
	switch t := v.(type) {
	case map[string]any:
		// A header match or the like on a secret header hides its values,
		// but not the header's name.
		name, _ := t["name"].(string)
		named := name != "" && secretKey(name)
		for k, e := range t {
			t[k] = redact(e, secret || named || secretKey(k))
		}
		if named && !secret {
			t["name"] = name
		}
	case []any:
		for i, e := range t {
			t[i] = redact(e, secret)
		}
	case string:
		if t != "" && (secret || strings.Contains(t, "-----BEGIN")) {
			return Redacted
		}
	case json.Number:
		if secret {
			return Redacted
		}
	}
	return v
}

// secretKey reports whether a key names a secret, by the rule in Redact.
func secretKey(k string) bool {
	k = strings.ReplaceAll(strings.ToLower(k), "-", "_")
	for _, suffix := range []string{"secret", "token", "password", "passwd", "private_key", "privatekey",
		"api_key", "apikey", "authorization", "cookie", "credentials"} {
		if strings.HasSuffix(k, suffix) {
			return true
		}
	}
	return false
}
