package main

import (
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// recorder keeps the status and byte count of a response for the log line.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the flusher underneath.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// logged writes one line per request, in one write call, the way nginx's
// unbuffered access_log does, so this proxy pays for logging like the rest.
func logged(next http.Handler, f *os.File) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		bp := lineBufs.Get().(*[]byte)
		b := (*bp)[:0]
		b = append(b, r.RemoteAddr...)
		b = append(b, " ["...)
		b = start.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, "] \""...)
		b = append(b, r.Method...)
		b = append(b, ' ')
		b = append(b, r.RequestURI...)
		b = append(b, ' ')
		b = append(b, r.Proto...)
		b = append(b, "\" "...)
		b = strconv.AppendInt(b, int64(rec.status), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, rec.bytes, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, time.Since(start).Microseconds(), 10)
		b = append(b, '\n')
		_, _ = f.Write(b)
		*bp = b
		lineBufs.Put(bp)
	})
}
