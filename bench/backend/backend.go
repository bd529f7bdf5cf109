// Package backend is the upstream every contender of the bench proxies to:
// it answers fixed-size bodies chosen by the path and echoes bodies, doing
// as little work per request as net/http allows, so that the proxy in front
// of it is what the figures measure.
package backend

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxBody is the largest body the backend serves or echoes, so a mistyped
// path cannot make it allocate without bound.
const maxBody = 64 << 20

// Handler answers:
//
//	GET  /0, /1k, /64k, /1m (any number with an optional k or m)  that many bytes
//	POST /echo                                                  the request body back
//	POST any sized path                                         reads the body, answers the sized body
//
// Unknown paths get 404.
func Handler() http.Handler {
	bodies := map[string][]byte{}
	for _, p := range []string{"/0", "/1k", "/64k", "/1m"} {
		n, _ := Size(p)
		bodies[p] = fill(n)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/echo" {
			echo(w, r)
			return
		}
		body, ok := bodies[r.URL.Path]
		if !ok {
			n, err := Size(r.URL.Path)
			if err != nil {
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
			body = fill(n)
		}
		if r.Body != nil {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		h := w.Header()
		h["Content-Type"] = []string{"application/octet-stream"}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		_, _ = w.Write(body)
	})
}

// echo answers with the request body. It reads the whole body first: an
// HTTP/1.1 server cannot read a body once its answer has started, and a
// client that writes all of a large body before reading would otherwise
// deadlock against an echo that streams.
func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	switch {
	case err != nil:
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	case len(body) > maxBody:
		http.Error(w, "body over the limit", http.StatusRequestEntityTooLarge)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// Size parses a sized path: "/1k" is 1024 bytes, "/1m" 1 MiB, "/10" ten.
func Size(path string) (int, error) {
	s := strings.TrimPrefix(path, "/")
	mult := 1
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1<<10, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "m"):
		mult, s = 1<<20, strings.TrimSuffix(s, "m")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxBody/mult {
		return 0, fmt.Errorf("path %q is not a size up to %d bytes", path, maxBody)
	}
	return n * mult, nil
}

// fill makes a body of n printable bytes, so a body seen in a log or a
// packet capture reads as text.
func fill(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}
