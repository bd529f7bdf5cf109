package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/quic-go/quic-go"

	"github.com/portcullis-gw/portcullis/routes/identity"
	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// TestCallerWithoutCertificateAlert checks the alert that a caller without
// a certificate gets from a listener that requires one, as BoringSSL sends
// it for Envoy: certificate_required (116) in TLS 1.3, handshake_failure
// (40) in TLS 1.2, and CRYPTO_ERROR 0x174 over QUIC; each refusal is
// counted and logged.
func TestCallerWithoutCertificateAlert(t *testing.T) {
	be := newBackend(t, nil)
	ca := newDevCA(t)
	logs := &lockedLog{}
	tg := callerGateway(t, ca, be.addr(), logs)
	tests := []struct {
		name    string
		version uint16
		want    string
	}{
		{"TLS 1.3", tls.VersionTLS13, "remote error: tls: certificate required"},
		{"TLS 1.2", tls.VersionTLS12, "remote error: tls: handshake failure"},
		{"HTTP/3", 0, fmt.Sprintf("CRYPTO_ERROR %#x (remote)", 0x100+116)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := metricValue(t, tg.Gateway, "portcullis_downstream_peer_refused_total", "require", string(identity.NoCertificate))
			err := callWithoutCertificate(t, tg.Addr("require").String(), tt.version, ca)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if tt.version == 0 {
				var te *quic.TransportError
				if !errors.As(err, &te) || !te.Remote || te.ErrorCode != quic.TransportErrorCode(0x100+116) {
					t.Errorf("got %#v, want the gateway's CRYPTO_ERROR certificate_required", err)
				}
			}
			waitUntil(t, "the refusal counted", func() bool {
				return metricValue(t, tg.Gateway, "portcullis_downstream_peer_refused_total", "require", string(identity.NoCertificate)) > before
			})
			if !refusalLogged(t, logs, "require", identity.NoCertificate) {
				t.Errorf("the refusal is not logged:\n%s", logs.String())
			}
		})
	}
	if n := be.hits.Load(); n != 0 {
		t.Errorf("the upstream saw %d requests, want none", n)
	}
}

// callWithoutCertificate connects to addr without a client certificate
// and returns the error the gateway's answer makes: over TLS of version,
// whose 1.3 server sends its alert after the client's handshake ended, so
// the first read receives it; over HTTP/3 for version 0.
func callWithoutCertificate(t *testing.T, addr string, version uint16, ca *devca.CA) error {
	cfg := meshClientTLS(nil, ca)
	if version == 0 {
		_, err := protoClient(t, "HTTP/3", cfg).Get("https://" + addr + "/")
		return err
	}
	cfg.MinVersion, cfg.MaxVersion, cfg.NextProtos = version, version, []string{"http/1.1"}
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		return err
	}
	_, err = conn.Read(make([]byte, 1))
	return err
}

// TestCallerUnparsableCertificate presents certificates that crypto/x509
// cannot parse, which crypto/tls refuses before the gateway's check runs:
// a URI SAN that is not a URI or not ASCII is a malformed SPIFFE ID, a
// broken DNS SAN a malformed certificate. Each refusal is counted and
// logged over HTTP/1.1, HTTP/2 and HTTP/3, and the upstream sees nothing.
func TestCallerUnparsableCertificate(t *testing.T) {
	be := newBackend(t, nil)
	ca := newDevCA(t)
	logs := &lockedLog{}
	tg := callerGateway(t, ca, be.addr(), logs)
	tests := []struct {
		name   string
		tag    int // of the SAN: 6 a URI, 2 a DNS name
		value  string
		reason identity.Reason
	}{
		{"a bad escape", 6, "spiffe://cluster.local/ns/%zz/sa/api", identity.MalformedID},
		{"a space in the host", 6, "spiffe://cluster local/ns/shop/sa/api", identity.MalformedID},
		{"an empty label", 6, "spiffe://cluster..local/ns/shop/sa/api", identity.MalformedID},
		{"a control character", 6, "spiffe://cluster.local/ns/shop\x7f/sa/api", identity.MalformedID},
		{"not ASCII", 6, "spiffe://cluster.local/ns/\xc3\xa9/sa/api", identity.MalformedID},
		{"a DNS name not ASCII", 2, "api.\xff.local", identity.MalformedCertificate},
	}
	for _, tt := range tests {
		cert := unparsableSVID(t, ca, tt.tag, tt.value)
		for _, listener := range []string{"require", "optional"} {
			for _, proto := range httpVersions {
				t.Run(fmt.Sprintf("%s on %s over %s", tt.name, listener, proto), func(t *testing.T) {
					before := metricValue(t, tg.Gateway, "portcullis_downstream_peer_refused_total", listener, string(tt.reason))
					cfg := meshClientTLS(nil, ca)
					cfg.Certificates = []tls.Certificate{cert}
					resp, err := protoClient(t, proto, cfg).Get(tg.url(listener) + "/")
					if err == nil {
						resp.Body.Close()
						t.Fatalf("got %d, want the handshake refused", resp.StatusCode)
					}
					waitUntil(t, "the refusal counted", func() bool {
						return metricValue(t, tg.Gateway, "portcullis_downstream_peer_refused_total", listener, string(tt.reason)) > before
					})
					if !refusalLogged(t, logs, listener, tt.reason) {
						t.Errorf("the refusal is not logged:\n%s", logs.String())
					}
				})
			}
		}
	}
	if n := be.hits.Load(); n != 0 {
		t.Errorf("the upstream saw %d requests, want none", n)
	}
}

// unparsableSVID is a client certificate of ca whose only subject
// alternative name has tag and value, written as is, so that it can be
// what no certificate authority should issue.
func unparsableSVID(t *testing.T, ca *devca.CA, tag int, value string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	san, err := asn1.Marshal([]asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: tag, Bytes: []byte(value)}})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:    big.NewInt(time.Now().UnixNano()),
		Subject:         pkix.Name{Organization: []string{"cluster.local"}},
		NotBefore:       time.Now().Add(-time.Minute),
		NotAfter:        time.Now().Add(time.Hour),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Critical: true, Value: san}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParseCertificate(der); err == nil {
		t.Fatalf("%q parses; the test needs a certificate that does not", value)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestCallerRefusalSeries checks that every reason's refusal counter is
// there at zero, before any refusal, for each listener that verifies
// callers, at start and after a reload, and that a listener removed or no
// longer verifying callers leaves none behind.
func TestCallerRefusalSeries(t *testing.T) {
	be := newBackend(t, nil)
	ca := newDevCA(t)
	tg := startGatewayWith(t, callerConfig(t, ca, be.addr(),
		meshListener("require", "127.0.0.1:0", "require"), meshListener("optional", "127.0.0.1:0", "optional"),
		meshListener("none", "127.0.0.1:0", "none"), meshListener("gone", "127.0.0.1:0", "require")))
	var reasons []string // every reason but the upstream's own
	for _, r := range identity.Reasons {
		if r != identity.NoServerAuth && r != identity.UnexpectedID {
			reasons = append(reasons, string(r))
		}
	}
	check := func(t *testing.T, want ...string) {
		t.Helper()
		got := map[string][]string{}
		fams, err := tg.Metrics().Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() != "portcullis_downstream_peer_refused_total" {
				continue
			}
			for _, m := range f.GetMetric() {
				l := seriesLabels(&dto.MetricFamily{Metric: []*dto.Metric{m}})[0]
				if v := m.GetCounter().GetValue(); v != 0 {
					t.Errorf("%v: got %v, want 0", l, v)
				}
				got[l["listener"]] = append(got[l["listener"]], l["reason"])
			}
		}
		if len(got) != len(want) {
			t.Errorf("series of listeners %v, want %v", slices.Sorted(maps.Keys(got)), want)
		}
		for _, l := range want {
			slices.Sort(got[l])
			if w := slices.Sorted(slices.Values(reasons)); !slices.Equal(got[l], w) {
				t.Errorf("listener %s: reasons %v, want %v", l, got[l], w)
			}
		}
	}
	t.Run("at start", func(t *testing.T) { check(t, "require", "optional", "gone") })
	t.Run("after a reload", func(t *testing.T) {
		cfg := callerConfig(t, ca, be.addr(),
			meshListener("require", tg.Addr("require").String(), "require"),
			meshListener("optional", tg.Addr("optional").String(), "none"),
			meshListener("none", tg.Addr("none").String(), "optional"),
			meshListener("new", "127.0.0.1:0", "require"))
		if err := tg.Reload(cfg); err != nil {
			t.Fatal(err)
		}
		check(t, "require", "none", "new")
	})
}
