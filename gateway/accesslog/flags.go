package accesslog

import "strings"

// Flags is a set of Envoy response flags.
type Flags uint32

// The response flags, with Envoy's meanings (source/common/stream_info/utility.h).
const (
	FailedLocalHealthCheck           Flags = 1 << iota // LH
	NoHealthyUpstream                                  // UH
	UpstreamRequestTimeout                             // UT
	LocalReset                                         // LR
	UpstreamRemoteReset                                // UR
	UpstreamConnectionFailure                          // UF
	UpstreamConnectionTermination                      // UC
	UpstreamOverflow                                   // UO
	NoRouteFound                                       // NR
	DelayInjected                                      // DI
	FaultInjected                                      // FI
	RateLimited                                        // RL
	UnauthorizedExternalService                        // UAEX
	RateLimitServiceError                              // RLSE
	DownstreamConnectionTermination                    // DC
	UpstreamRetryLimitExceeded                         // URX
	StreamIdleTimeout                                  // SI
	InvalidEnvoyRequestHeaders                         // IH
	DownstreamProtocolError                            // DPE
	UpstreamMaxStreamDurationReached                   // UMSDR
	NoFilterConfigFound                                // NFCF
	DurationTimeout                                    // DT
	UpstreamProtocolError                              // UPE
	NoClusterFound                                     // NC
	OverloadManager                                    // OM
	DNSResolutionFailed                                // DF
	DropOverLoad                                       // DO
)

// flagNames are the short names, in Envoy's order of printing.
var flagNames = [...]struct {
	flag        Flags
	short, long string
}{
	{FailedLocalHealthCheck, "LH", "FailedLocalHealthCheck"},
	{NoHealthyUpstream, "UH", "NoHealthyUpstream"},
	{UpstreamRequestTimeout, "UT", "UpstreamRequestTimeout"},
	{LocalReset, "LR", "LocalReset"},
	{UpstreamRemoteReset, "UR", "UpstreamRemoteReset"},
	{UpstreamConnectionFailure, "UF", "UpstreamConnectionFailure"},
	{UpstreamConnectionTermination, "UC", "UpstreamConnectionTermination"},
	{UpstreamOverflow, "UO", "UpstreamOverflow"},
	{NoRouteFound, "NR", "NoRouteFound"},
	{DelayInjected, "DI", "DelayInjected"},
	{FaultInjected, "FI", "FaultInjected"},
	{RateLimited, "RL", "RateLimited"},
	{UnauthorizedExternalService, "UAEX", "UnauthorizedExternalService"},
	{RateLimitServiceError, "RLSE", "RateLimitServiceError"},
	{DownstreamConnectionTermination, "DC", "DownstreamConnectionTermination"},
	{UpstreamRetryLimitExceeded, "URX", "UpstreamRetryLimitExceeded"},
	{StreamIdleTimeout, "SI", "StreamIdleTimeout"},
	{InvalidEnvoyRequestHeaders, "IH", "InvalidEnvoyRequestHeaders"},
	{DownstreamProtocolError, "DPE", "DownstreamProtocolError"},
	{UpstreamMaxStreamDurationReached, "UMSDR", "UpstreamMaxStreamDurationReached"},
	{NoFilterConfigFound, "NFCF", "NoFilterConfigFound"},
	{DurationTimeout, "DT", "DurationTimeout"},
	{UpstreamProtocolError, "UPE", "UpstreamProtocolError"},
	{NoClusterFound, "NC", "NoClusterFound"},
	{OverloadManager, "OM", "OverloadManager"},
	{DNSResolutionFailed, "DF", "DnsResolutionFailed"},
	{DropOverLoad, "DO", "DropOverload"},
}

// String returns the short names joined by commas, or "-" for none, as
// %RESPONSE_FLAGS% prints them.
func (f Flags) String() string { return f.join(false) }

// Long returns the long names joined by commas, or "-", as
// %RESPONSE_FLAGS_LONG% prints them.
func (f Flags) Long() string { return f.join(true) }

func (f Flags) join(long bool) string {
	if f == 0 {
		return "-"
	}
	var b strings.Builder
	for _, n := range flagNames {
		if f&n.flag == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if long {
			b.WriteString(n.long)
		} else {
			b.WriteString(n.short)
		}
	}
	return b.String()
}

// ParseFlag returns the flag with the short name s, such as "RL".
func ParseFlag(s string) (Flags, bool) {
	for _, n := range flagNames {
		if n.short == s {
			return n.flag, true
		}
	}
	return 0, false
}
