package egress

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// clientHello returns the bytes a TLS client sends first for serverName.
func clientHello(t *testing.T, serverName string) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer b.Close()
	go func() {
		c := tls.Client(a, &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
		c.Handshake()
		a.Close()
	}()
	buf := make([]byte, 1<<16)
	b.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := b.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

func TestPeekServerName(t *testing.T) {
	hello := clientHello(t, "api.example.com")
	noName := clientHello(t, "")
	for _, tt := range []struct {
		name    string
		in      []byte
		want    string
		wantErr bool
	}{
		{"hello", hello, "api.example.com", false},
		{"hello in one-byte records is still read", fragment(hello), "api.example.com", false},
		{"no server name", noName, "", true},
		{"plain http", []byte("GET / HTTP/1.1\r\nHost: api.example.com\r\n\r\n"), "", true},
		{"ssh", []byte("SSH-2.0-OpenSSH_9.2\r\n"), "", true},
		{"truncated hello", hello[:20], "", true},
		{"empty", nil, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			name, first, err := PeekServerName(ctx, bytes.NewReader(tt.in))
			if (err != nil) != tt.wantErr || name != tt.want {
				t.Fatalf("got %q, %v; want %q (error %v)", name, err, tt.want, tt.wantErr)
			}
			if !bytes.HasPrefix(tt.in, first) {
				t.Errorf("got first bytes that are not what was read")
			}
		})
	}
}

// fragment splits a TLS record's payload into records of one byte each.
func fragment(rec []byte) []byte {
	var out []byte
	for _, b := range rec[5:] {
		out = append(out, rec[0], rec[1], rec[2], 0, 1, b)
	}
	return out
}

func FuzzPeekServerName(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{22, 3, 1, 0, 5, 1, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		name, first, err := PeekServerName(ctx, bytes.NewReader(b))
		if !bytes.HasPrefix(b, first) {
			t.Fatalf("the bytes read are not the input's start")
		}
		if err == nil && name == "" {
			t.Fatalf("no error and no name")
		}
	})
}
