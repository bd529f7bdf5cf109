package routes

import (
	"math"
	"reflect"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// scalar fills a string, boolean or number from a scalar. Numbers are
// decimal only: YAML 1.1 reads 010 as 8, and a port or a status written
// with a leading zero should not change its value.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, at loc) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, at, "expected %s, got %s", want(v.Type()), describe(n))
		return
	}
	s := n.Value
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		switch s {
		case "true", "True", "TRUE":
			v.SetBool(true)
		case "false", "False", "FALSE":
			v.SetBool(false)
		default:
			d.errorf(n, at, "expected %s, got %s", want(v.Type()), describe(n))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(s, 10, 64)
		switch {
		case err != nil && isRange(err), err == nil && v.OverflowInt(i):
			d.errorf(n, at, "%s is out of range", s)
		case err != nil:
			d.errorf(n, at, "expected %s, got %s", want(v.Type()), describe(n))
		default:
			v.SetInt(i)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(s, 10, 64)
		switch {
		case err != nil && isRange(err), err == nil && v.OverflowUint(u):
			d.errorf(n, at, "%s is out of range", s)
		case err != nil:
			d.errorf(n, at, "expected %s, got %s", want(v.Type()), describe(n))
		default:
			v.SetUint(u)
		}
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || v.OverflowFloat(f) {
			d.errorf(n, at, "expected %s, got %s", want(v.Type()), describe(n))
			return
		}
		v.SetFloat(f)
	}
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// want names what a value of type t is written as, for "expected …" messages.
func want(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Duration](), reflect.TypeFor[time.Duration]():
		return "a duration such as 5s"
	case reflect.TypeFor[Size]():
		return "a size such as 64KiB"
	case reflect.TypeFor[CIDR]():
		return "an address or CIDR"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Pointer:
		return want(t.Elem())
	}
	return "a string"
}

// describe names what n is, for "got …" messages: its kind, or a scalar's
// text, cut short so that a hostile file cannot make the message huge.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	s := n.Value
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}
