package accesslog

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// argRule says whether an operator takes a (ARG).
type argRule uint8

const (
	argNone argRule = iota
	argOptional
	argRequired
)

// operator describes one command operator: what it accepts and how to build
// its emitter from the argument and truncation length.
type operator struct {
	arg   argRule
	trunc bool
	build func(arg string, o valueOpts) (emitFunc, error)
}

// operators are the command operators Compile knows, by name. The ones whose
// data the gateway does not record (the request and
// response phase durations, VIRTUAL_CLUSTER_NAME) are accepted and print "-",
// so that format strings written for Envoy or Istio compile unchanged.
var operators = map[string]operator{
	"START_TIME": {arg: argOptional, build: buildStartTime},
	"REQ":        {arg: argRequired, trunc: true, build: buildRequestHeader},
	"RESP":       {arg: argRequired, trunc: true, build: buildResponseHeader},
	"TRAILER":    {arg: argRequired, trunc: true, build: buildTrailer},

	"RESPONSE_CODE":       numberOp(func(r *Record) int64 { return int64(r.ResponseCode) }),
	"BYTES_RECEIVED":      numberOp(func(r *Record) int64 { return r.BytesReceived }),
	"BYTES_SENT":          numberOp(func(r *Record) int64 { return r.BytesSent }),
	"DURATION":            numberOp(func(r *Record) int64 { return r.Duration.Milliseconds() }),
	"RESPONSE_FLAGS":      flagsOp(false),
	"RESPONSE_FLAGS_LONG": flagsOp(true),

	// Header sizes as the gateway estimates them (Record); wire bytes add
	// the body's.
	"DOWNSTREAM_HEADER_BYTES_RECEIVED": numberOp(func(r *Record) int64 { return r.RequestHeaderBytes }),
	"DOWNSTREAM_HEADER_BYTES_SENT":     numberOp(func(r *Record) int64 { return r.ResponseHeaderBytes }),
	"DOWNSTREAM_WIRE_BYTES_RECEIVED":   numberOp(func(r *Record) int64 { return r.RequestHeaderBytes + r.BytesReceived }),
	"DOWNSTREAM_WIRE_BYTES_SENT":       numberOp(func(r *Record) int64 { return r.ResponseHeaderBytes + r.BytesSent }),

	"PROTOCOL":                          stringOp(func(r *Record) string { return r.Protocol }),
	"RESPONSE_CODE_DETAILS":             stringOp(func(r *Record) string { return r.ResponseCodeDetails }),
	"CONNECTION_TERMINATION_DETAILS":    stringOp(func(r *Record) string { return r.ConnectionTerminationDetails }),
	"UPSTREAM_TRANSPORT_FAILURE_REASON": stringOp(func(r *Record) string { return r.UpstreamTransportFailureReason }),
	"ROUTE_NAME":                        stringOp(func(r *Record) string { return r.RouteName }),
	"REQUESTED_SERVER_NAME":             stringOp(func(r *Record) string { return r.RequestedServerName }),
	"DOWNSTREAM_TLS_VERSION":            stringOp(func(r *Record) string { return r.DownstreamTLSVersion }),
	"DOWNSTREAM_TLS_CIPHER":             stringOp(func(r *Record) string { return r.DownstreamTLSCipher }),
	"DOWNSTREAM_PEER_URI_SAN":           stringOp(func(r *Record) string { return r.DownstreamPeerURISAN }),
	"DOWNSTREAM_PEER_SUBJECT":           stringOp(func(r *Record) string { return r.DownstreamPeerSubject }),
	"UPSTREAM_TLS_VERSION":              stringOp(func(r *Record) string { return r.UpstreamTLSVersion }),
	"UPSTREAM_PEER_URI_SAN":             stringOp(func(r *Record) string { return r.UpstreamPeerURISAN }),

	// The gateway has no alt_stat_name, so the cluster prints the same both
	// ways; Istio 1.24+ formats use the RAW spelling.
	"UPSTREAM_CLUSTER":     stringOp(func(r *Record) string { return r.UpstreamCluster }),
	"UPSTREAM_CLUSTER_RAW": stringOp(func(r *Record) string { return r.UpstreamCluster }),

	"UPSTREAM_HOST":                          stringOp(func(r *Record) string { return r.UpstreamHost }),
	"UPSTREAM_REMOTE_ADDRESS":                stringOp(func(r *Record) string { return r.UpstreamHost }),
	"UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT":   stringOp(func(r *Record) string { return hostOf(r.UpstreamHost) }),
	"UPSTREAM_REMOTE_PORT":                   stringOp(func(r *Record) string { return portOf(r.UpstreamHost) }),
	"UPSTREAM_LOCAL_ADDRESS":                 stringOp(func(r *Record) string { return r.UpstreamLocalAddress }),
	"UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT":    stringOp(func(r *Record) string { return hostOf(r.UpstreamLocalAddress) }),
	"UPSTREAM_LOCAL_PORT":                    stringOp(func(r *Record) string { return portOf(r.UpstreamLocalAddress) }),
	"DOWNSTREAM_LOCAL_ADDRESS":               stringOp(func(r *Record) string { return r.DownstreamLocalAddress }),
	"DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT":  stringOp(func(r *Record) string { return hostOf(r.DownstreamLocalAddress) }),
	"DOWNSTREAM_LOCAL_PORT":                  stringOp(func(r *Record) string { return portOf(r.DownstreamLocalAddress) }),
	"DOWNSTREAM_REMOTE_ADDRESS":              stringOp(func(r *Record) string { return r.DownstreamRemoteAddress }),
	"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": stringOp(func(r *Record) string { return hostOf(r.DownstreamRemoteAddress) }),
	"DOWNSTREAM_REMOTE_PORT":                 stringOp(func(r *Record) string { return portOf(r.DownstreamRemoteAddress) }),
	"DOWNSTREAM_DIRECT_REMOTE_ADDRESS":       stringOp(func(r *Record) string { return r.DownstreamDirectRemoteAddress }),
	"DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT": stringOp(func(r *Record) string {
		return hostOf(r.DownstreamDirectRemoteAddress)
	}),
	"DOWNSTREAM_DIRECT_REMOTE_PORT": stringOp(func(r *Record) string { return portOf(r.DownstreamDirectRemoteAddress) }),

	"HOSTNAME": {trunc: true, build: buildHostname},

	"DYNAMIC_METADATA": {arg: argRequired, trunc: true, build: buildMetadata},

	// Envoy's TCP-proxy operators, for forward-proxy tunnels: the bytes
	// sent to and received from the destination, "-" for none.
	"UPSTREAM_WIRE_BYTES_SENT":     countOp(func(r *Record) int64 { return r.UpstreamWireBytesSent }),
	"UPSTREAM_WIRE_BYTES_RECEIVED": countOp(func(r *Record) int64 { return r.UpstreamWireBytesReceived }),
	"REQUEST_DURATION":             {build: buildDash},
	"REQUEST_TX_DURATION":          {build: buildDash},
	"RESPONSE_DURATION":            {build: buildDash},
	"RESPONSE_TX_DURATION":         {build: buildDash},
	"VIRTUAL_CLUSTER_NAME":         {build: buildDash},
}

// buildOperator checks name's argument and length against its description
// and builds its emitter.
func buildOperator(name, arg string, hasArg bool, o valueOpts) (emitFunc, error) {
	op, ok := operators[name]
	switch {
	case !ok:
		return nil, fmt.Errorf("unknown operator %%%s%%", name)
	case hasArg && op.arg == argNone:
		return nil, fmt.Errorf("operator %%%s%% takes no argument, got (%s)", name, arg)
	case !hasArg && op.arg == argRequired:
		return nil, fmt.Errorf("operator %%%s%% needs an argument: %%%s(...)%%", name, name)
	case o.max > 0 && !op.trunc:
		return nil, fmt.Errorf("operator %%%s%% takes no truncation length, got :%d", name, o.max)
	}
	emit, err := op.build(arg, o)
	if err != nil {
		return nil, fmt.Errorf("operator %%%s(%s)%%: %w", name, arg, err)
	}
	return emit, nil
}

// stringOp is an operator that prints a record field, "-" when empty.
func stringOp(get func(*Record) string) operator {
	return operator{trunc: true, build: func(_ string, o valueOpts) (emitFunc, error) {
		return func(dst []byte, r *Record) []byte { return appendValue(dst, get(r), o) }, nil
	}}
}

// numberOp is an operator that always prints a decimal number, as Envoy does
// for status, byte counts and durations.
func numberOp(get func(*Record) int64) operator {
	return operator{build: func(string, valueOpts) (emitFunc, error) {
		return func(dst []byte, r *Record) []byte { return strconv.AppendInt(dst, get(r), 10) }, nil
	}}
}

func flagsOp(long bool) operator {
	return operator{build: func(string, valueOpts) (emitFunc, error) {
		return func(dst []byte, r *Record) []byte { return appendFlags(dst, r.Flags, long) }, nil
	}}
}

// countOp prints a count that only some records have, "-" when zero.
func countOp(get func(*Record) int64) operator {
	return operator{build: func(string, valueOpts) (emitFunc, error) {
		return func(dst []byte, r *Record) []byte {
			if n := get(r); n != 0 {
				return strconv.AppendInt(dst, n, 10)
			}
			return append(dst, '-')
		}, nil
	}}
}

func buildDash(string, valueOpts) (emitFunc, error) {
	return func(dst []byte, _ *Record) []byte { return append(dst, '-') }, nil
}

// buildHostname reads the host name once, at compile time, as Envoy does.
func buildHostname(_ string, o valueOpts) (emitFunc, error) {
	name, err := os.Hostname()
	if err != nil {
		name = ""
	}
	return func(dst []byte, _ *Record) []byte { return appendValue(dst, name, o) }, nil
}

// buildMetadata compiles NAMESPACE:KEY, the value a plugin recorded under
// that key, or NAMESPACE alone, the namespace's values as one JSON object
// as Envoy prints a struct; "-" when there is none.
func buildMetadata(arg string, o valueOpts) (emitFunc, error) {
	ns, key, hasKey := strings.Cut(arg, ":")
	switch {
	case ns == "":
		return nil, errors.New("want NAMESPACE or NAMESPACE:KEY")
	case hasKey && (key == "" || strings.Contains(key, ":")):
		return nil, errors.New("want NAMESPACE:KEY, one key: the gateway's values are text")
	}
	if hasKey {
		return func(dst []byte, r *Record) []byte {
			for _, e := range r.Metadata {
				if e.Namespace == ns && e.Key == key {
					return appendValue(dst, e.Value, o)
				}
			}
			return append(dst, '-')
		}, nil
	}
	return func(dst []byte, r *Record) []byte {
		var obj []byte
		for _, e := range r.Metadata {
			if e.Namespace == ns {
				obj = appendJSONMember(obj, e.Key, e.Value)
			}
		}
		if obj == nil {
			return append(dst, '-')
		}
		obj[0] = '{'
		return appendValue(dst, string(append(obj, '}')), o)
	}, nil
}

// appendJSONMember appends ,"key":"value" to obj.
func appendJSONMember(obj []byte, key, value string) []byte {
	obj = appendJSONName(append(obj, ','), key)
	return appendJSONString(append(obj, ':'), value)
}
