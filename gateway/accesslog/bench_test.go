package accesslog

import (
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func BenchmarkFormatIstioLegacy(b *testing.B) {
	text, _ := Preset("istio-legacy")
	f, err := Compile(text)
	if err != nil {
		b.Fatal(err)
	}
	r := legacyRecord()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = f.Append(buf[:0], r)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkFormatJSON(b *testing.B) {
	r := legacyRecord()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], r)
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkFormatJSONZerolog writes the same object as one zerolog event,
// the house way, to weigh it against AppendJSON.
func BenchmarkFormatJSONZerolog(b *testing.B) {
	zl := zerolog.New(io.Discard)
	r := legacyRecord()
	var tb [32]byte
	b.ReportAllocs()
	for b.Loop() {
		str := func(e *zerolog.Event, k, v string) *zerolog.Event {
			if v == "" {
				return e.RawJSON(k, []byte("null"))
			}
			return e.Str(k, v)
		}
		e := zl.Log()
		e = str(e, FieldAuthority, r.Authority).Int64(FieldBytesReceived, r.BytesReceived).Int64(FieldBytesSent, r.BytesSent)
		e = str(e, FieldConnectionTerminationDetails, r.ConnectionTerminationDetails)
		e = str(e, FieldDownstreamLocalAddress, r.DownstreamLocalAddress)
		e = str(e, FieldDownstreamPeerSubject, r.DownstreamPeerSubject)
		e = str(e, FieldDownstreamPeerURISAN, r.DownstreamPeerURISAN)
		e = str(e, FieldDownstreamRemoteAddress, r.DownstreamRemoteAddress)
		e = str(e, FieldDownstreamTLSVersion, r.DownstreamTLSVersion).Int64(FieldDuration, r.Duration.Milliseconds())
		e = str(e, FieldMethod, r.Method)
		e = str(e, FieldPath, originalPath(r))
		e = str(e, FieldProtocol, r.Protocol)
		e = str(e, FieldRequestID, firstOr(r.RequestHeader, "X-Request-Id", r.RequestID))
		e = str(e, FieldRequestedServerName, r.RequestedServerName).Int(FieldResponseCode, r.ResponseCode)
		e = str(e, FieldResponseCodeDetails, r.ResponseCodeDetails)
		e = e.Str(FieldResponseFlags, "-")
		e = str(e, FieldRewrittenPath, rewrittenPath(r))
		e = str(e, FieldRouteName, r.RouteName)
		e = e.Bytes(FieldStartTime, appendStartTime(tb[:0], r.Start))
		e = str(e, FieldUpstreamCluster, r.UpstreamCluster)
		e = str(e, FieldUpstreamHost, r.UpstreamHost)
		e = str(e, FieldUpstreamLocalAddress, r.UpstreamLocalAddress)
		e = str(e, FieldUpstreamPeerURISAN, r.UpstreamPeerURISAN)
		e = str(e, FieldUpstreamServiceTime, firstOr(r.ResponseHeader, "X-Envoy-Upstream-Service-Time", ""))
		e = str(e, FieldUpstreamTLSVersion, r.UpstreamTLSVersion)
		e = str(e, FieldUpstreamTransportFailureReason, r.UpstreamTransportFailureReason)
		e = str(e, FieldUserAgent, firstOr(r.RequestHeader, "User-Agent", ""))
		e = str(e, FieldVirtualHost, r.VirtualHost)
		e = str(e, FieldXForwardedFor, firstOr(r.RequestHeader, "X-Forwarded-For", ""))
		e.Send()
	}
}

// BenchmarkLog logs from parallel goroutines to a file, buffered (the
// default) and with one write call per line.
func BenchmarkLog(b *testing.B) {
	for _, bench := range []struct {
		name     string
		format   string
		interval time.Duration
	}{
		{"istio-legacy/buffered", "istio-legacy", 0},
		{"istio-legacy/unbuffered", "istio-legacy", -1},
		{"json/buffered", "json", 0},
		{"json/unbuffered", "json", -1},
	} {
		b.Run(bench.name, func(b *testing.B) {
			l, err := New(Options{Format: bench.format, Path: filepath.Join(b.TempDir(), "access.log"), FlushInterval: bench.interval})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := legacyRecord()
				for pb.Next() {
					l.Log(r)
				}
			})
		})
	}
}
