package gateway

import (
	"net"
	"net/http"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// protocolError logs a request the framing guard refused before it became a
// request: the server answered 400 (431 for an oversized head) and closed
// the connection, and no handler ran, so this is its access-log line.
func (g *Gateway) protocolError(listener, kind string, remote net.Addr) {
	rec := accesslog.Get()
	defer accesslog.Put(rec)
	rec.Start = time.Now()
	rec.UpstreamServiceTime = -1
	rec.ResponseCode = http.StatusBadRequest
	if kind == "head_too_large" {
		rec.ResponseCode = http.StatusRequestHeaderFieldsTooLarge
	}
	rec.Flags = accesslog.DownstreamProtocolError
	rec.ResponseCodeDetails = "http1.codec_error{" + kind + "}"
	rec.ConnectionTerminationDetails = "listener_" + listener
	if remote != nil {
		rec.DownstreamRemoteAddress = remote.String()
		rec.DownstreamDirectRemoteAddress = remote.String()
	}
	s := g.acquire()
	s.access.Log(rec)
	g.release(s)
	g.metrics.ProtocolError(listener, kind)
}
