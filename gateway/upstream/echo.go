package upstream

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// echoBodyLimit bounds how much of a request body the echo upstream reads
// back; the rest is drained and counted.
const echoBodyLimit = 64 << 10

// Echo is the built-in echo upstream: it answers every request with
// the request it saw, as JSON. It runs inside the gateway, behind the whole
// proxy path, so what it reports is exactly what a real upstream would get.
type Echo struct{}

var _ http.RoundTripper = Echo{}

// echoReply is the JSON body of the echo upstream's answer.
type echoReply struct {
	Method    string              `json:"method"`
	Path      string              `json:"path"`
	Query     string              `json:"query,omitempty"`
	Host      string              `json:"host"`
	Proto     string              `json:"protocol"`
	Headers   map[string][]string `json:"headers"`
	Body      string              `json:"body,omitempty"`
	BodyBytes int64               `json:"body_bytes"`
}

// RoundTrip answers r with what it saw of r, as JSON.
func (Echo) RoundTrip(r *http.Request) (*http.Response, error) {
	reply := echoReply{
		Method: r.Method,
		Path:   r.URL.EscapedPath(),
		Query:  r.URL.RawQuery,
		Host:   r.Host,
		// The echo upstream speaks HTTP/1.1, as an upstream with the
		// default protocol would, whatever the client spoke.
		Proto:   "HTTP/1.1",
		Headers: r.Header,
	}
	if r.Body != nil {
		var buf bytes.Buffer
		n, err := io.Copy(&buf, io.LimitReader(r.Body, echoBodyLimit))
		if err != nil {
			return nil, err
		}
		rest, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			return nil, err
		}
		reply.Body, reply.BodyBytes = buf.String(), n+rest
		r.Body.Close()
	}
	body, err := json.MarshalIndent(reply, "", "  ")
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	h := http.Header{
		"Content-Type":   {"application/json"},
		"Content-Length": {strconv.Itoa(len(body))},
	}
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}, nil
}
