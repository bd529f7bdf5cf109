package plugins

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// SecretTag is the struct tag that marks a field of a plugin's config type as
// secret: `secret:"true"`. Everything beneath such a field is hidden when the
// configuration is shown (the admin API's /config, or any JSON rendering of a
// routes file): every string, number and list item becomes Redacted, while
// map keys stay, so that an operator still sees which headers a plugin sets
// without seeing their values. Empty strings, nil and booleans stay: they
// show that a secret is unset and hide nothing. The routes file's errors
// about a value beneath such a field do not quote it either; a plugin's
// own Build errors must not quote one.
//
// A plugin marks every field that holds a credential (a token, a password, an
// API key, a key's contents) or a value it writes into requests or responses
// that a client or an upstream may treat as one (header values such as
// cookies and API keys).
const SecretTag = "secret"

// Redacted replaces each secret value in Display's output.
const Redacted = "[redacted]"

// maxDisplayDepth bounds Display's walk, so that a hand-built configuration
// with a pointer cycle cannot recurse forever; decoded ones are trees.
const maxDisplayDepth = 64

// Display returns cfg as a tree of maps, lists and scalars, ready for JSON,
// with each field named by its yaml key (as the routes file writes it), a
// time.Duration written as the file writes it ("1.5s"), and everything
// beneath a field tagged SecretTag replaced by Redacted. Values of types
// with their own JSON or text form are kept as they are, unless they are
// secret. cfg itself is not changed.
func Display(cfg any) any {
	return display(reflect.ValueOf(cfg), false, 0)
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	durationType  = reflect.TypeFor[time.Duration]()
)

func display(v reflect.Value, secret bool, depth int) any {
	if depth > maxDisplayDepth {
		return Redacted
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return nil
	}
	if v.Type() == durationType {
		// As the routes file writes it, "1m30s", not nanoseconds.
		if secret && !v.IsZero() {
			return Redacted
		}
		return time.Duration(v.Int()).String()
	}
	if t := v.Type(); t.Implements(jsonMarshaler) || t.Implements(textMarshaler) {
		if secret && !v.IsZero() {
			return Redacted
		}
		return v.Interface()
	}
	switch v.Kind() {
	case reflect.Struct:
		out := map[string]any{}
		displayFields(v, out, secret, depth)
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			out[mapKey(it.Key())] = display(it.Value(), secret, depth+1)
		}
		return out
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = display(v.Index(i), secret, depth+1)
		}
		return out
	case reflect.String:
		if secret && v.String() != "" {
			return Redacted
		}
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		if secret {
			return Redacted
		}
		return v.Interface()
	}
	return nil // channels, functions and the like have no place in a config
}

// displayFields adds a struct's exported fields to out under their yaml
// names; inline and untagged embedded structs add theirs to the same map.
func displayFields(v reflect.Value, out map[string]any, secret bool, depth int) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		hide := secret || f.Tag.Get(SecretTag) == "true"
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && (opts == "inline" || f.Anonymous && tag == "") {
			displayFields(fv, out, hide, depth+1)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // yaml's own default
		}
		out[name] = display(fv, hide, depth+1)
	}
}

// mapKey writes a map key as JSON would: a string as it is, anything else
// through its text form or fmt's.
func mapKey(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return k.String()
	}
	if k.Type().Implements(textMarshaler) {
		if b, err := k.Interface().(encoding.TextMarshaler).MarshalText(); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(k.Interface())
}
