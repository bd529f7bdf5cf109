// Package h1guard checks the HTTP/1 byte stream of a connection before Go's
// HTTP server parses it, and stops the request smuggling and desync vectors
// that net/http tolerates: bare LF line endings, obs-fold continuation lines,
// Content-Length together with Transfer-Encoding, Transfer-Encoding on
// HTTP/1.0, and sloppy chunk framing. net/http accepts these leniently, and
// once it has parsed a request the evidence is gone, so the check has to sit
// below it, on the bytes.
//
// [Listen] wraps a listener and [Conn] a single connection. The wrapper reads
// from the socket into the caller's buffer, runs a small state machine over
// the bytes and hands on every byte it has validated at once, so the server's
// own timeouts (ReadHeaderTimeout above all) keep their meaning and the
// wrapper copies and holds nothing. Head bytes are scanned once through
// lookup tables; body bytes are skipped by count.
//
// A violation is never answered by the wrapper itself: the server may be
// writing the response to an earlier pipelined request at that moment.
// Instead the bytes up to the offending byte are handed on, followed by a few
// synthetic bytes that net/http is certain to reject wherever in the message
// it stands, and then end of file:
//
//   - in a request head, a NUL byte (net/http answers 400 Bad Request and
//     closes the connection; the handler is not called);
//   - for a head larger than Options.MaxHeaderBytes, a line of filler longer
//     than the server's own read limit (net/http answers 431 Request Header
//     Fields Too Large);
//   - in a chunked body or its trailer, a stray CR (the handler's body read
//     fails; the server closes the connection after the response).
//
// Options.OnViolation learns the Kind, so the gateway can count it and log
// the request with the DPE flag; [Violation] tells it, for a connection,
// whether a failed body read was the guard's doing. A connection closed
// after a violation lingers briefly, reading and discarding, so that the
// client gets the answer rather than a reset.
//
// Three things switch the check off for the rest of a connection, because
// what follows is no longer HTTP/1: the HTTP/2 preface at the start of a
// connection (h2c prior knowledge; Go's HTTP/2 server checks those frames),
// a TLS connection that negotiated "h2" by ALPN, and a hijack by a handler
// (a WebSocket upgrade, a CONNECT tunnel). net/http signals the hijack by
// calling SetDeadline on the connection, which it does nowhere else. An
// Upgrade header alone switches nothing off: when the upgrade is refused,
// the server goes on parsing the connection, and so does the guard. The
// price is that a client must wait for the 101 (or the 2xx to CONNECT)
// before it sends anything else, as RFC 6455 requires: bytes sent sooner
// are checked as HTTP/1 and, not being HTTP/1, refused.
package h1guard
