package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxHeaderLines bounds a response head, so a broken server cannot make the
// load generator read forever.
const maxHeaderLines = 200

// readLine reads one CRLF- or LF-terminated line without its terminator.
// The slice is valid until the next read.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errors.New("malformed response: line too long")
		}
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readHeader reads header lines up to the blank line, keeping only what
// framing needs. length is -1 when there is no Content-Length.
func readHeader(br *bufio.Reader) (length int64, chunked, closing bool, err error) {
	length = -1
	for range maxHeaderLines {
		line, err := readLine(br)
		if err != nil {
			return 0, false, false, err
		}
		if len(line) == 0 {
			return length, chunked, closing, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, false, fmt.Errorf("malformed header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.ParseInt(string(value), 10, 64)
			if err != nil || length < 0 {
				return 0, false, false, fmt.Errorf("malformed content-length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	return 0, false, false, errors.New("malformed response: too many header lines")
}

// discardChunked reads a chunked body and its trailer, returning the number
// of body bytes.
func discardChunked(br *bufio.Reader) (int, error) {
	total := 0
	for {
		line, err := readLine(br)
		if err != nil {
			return total, err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 || size > 1<<40 {
			return total, fmt.Errorf("malformed chunk size %q", line)
		}
		if size == 0 {
			// The trailer: header lines up to a blank line.
			if _, _, _, err := readHeader(br); err != nil {
				return total, err
			}
			return total, nil
		}
		n, err := br.Discard(int(size))
		total += n
		if err != nil {
			return total, io.ErrUnexpectedEOF
		}
		if _, err := readLine(br); err != nil {
			return total, err
		}
	}
}
