package gateway

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// needOpenSSL skips the test when Debian's openssl is not installed.
func needOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed (Debian package openssl)")
	}
}

// svidDir writes s and the bundle of trust into a new directory and
// returns its tls.crt, tls.key and ca.crt.
func svidDir(t *testing.T, s *devca.SVID, trust *devca.CA) (cert, key, bundle string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := devca.WriteSVID(dir, s, trust.BundlePEM()); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, devca.CertFile), filepath.Join(dir, devca.KeyFile), filepath.Join(dir, devca.BundleFile)
}

// freeLoopbackPort returns a port on 127.0.0.1 that was free a moment ago.
func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// sServer is `openssl s_server -www` serving s and requiring a client
// certificate that verifies against trust; out collects what it prints.
type sServer struct {
	addr string
	out  *lockedLog
}

func startSServer(t *testing.T, s *devca.SVID, trust *devca.CA) *sServer {
	t.Helper()
	cert, key, bundle := svidDir(t, s, trust)
	for range 3 { // another process may take the port between its check and s_server's bind
		addr := "127.0.0.1:" + freeLoopbackPort(t)
		out := &lockedLog{}
		cmd := exec.Command("openssl", "s_server", "-accept", addr, "-cert", cert, "-key", key,
			"-CAfile", bundle, "-Verify", "1", "-verify_return_error", "-www")
		cmd.Stdout, cmd.Stderr = out, out
		stdin, err := cmd.StdinPipe() // held open: s_server reads commands from it
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
			stdin.Close()
		})
		end := time.Now().Add(30 * time.Second)
	wait:
		for !strings.Contains(out.String(), "ACCEPT") {
			select {
			case <-exited:
				t.Logf("openssl s_server on %s exited: %s", addr, out)
				break wait
			case <-time.After(10 * time.Millisecond):
			}
			if time.Now().After(end) {
				t.Fatalf("openssl s_server on %s did not start: %s", addr, out)
			}
		}
		select {
		case <-exited:
		default:
			return &sServer{addr: addr, out: out}
		}
	}
	t.Fatal("openssl s_server did not start in three attempts")
	return nil
}

// TestOpenSSLServerAsMutualTLSUpstream sends requests through the gateway
// to `openssl s_server -Verify 1`, a backend that requires a client
// certificate: the gateway's SVID verifies there and s_server's own
// status page names it; a backend whose ID is not expected, and one that
// trusts another CA, are refused with 503 and are not served.
func TestOpenSSLServerAsMutualTLSUpstream(t *testing.T) {
	needOpenSSL(t)
	ca := newDevCA(t)
	const backendID = "spiffe://cluster.local/ns/db/sa/openssl"
	good := startSServer(t, issueSVID(t, ca, backendID, nil), ca)
	distrustful := startSServer(t, issueSVID(t, ca, backendID, nil), newDevCA(t))
	mutual := func(s *sServer, principals string) string {
		return fmt.Sprintf("endpoints: [%q], tls: { mode: mutual, expect_principals: [%s] }", s.addr, principals)
	}
	tg, _ := mutualGateway(t, ca, issueSVID(t, ca, gatewayID, nil), map[string]string{
		"expected":    mutual(good, `"cluster.local/ns/db/sa/openssl"`),
		"unexpected":  mutual(good, `"cluster.local/ns/db/sa/other"`),
		"distrustful": mutual(distrustful, `"cluster.local/ns/db/sa/openssl"`),
	})

	t.Run("expected principal", func(t *testing.T) {
		resp, body := get(t, http.DefaultClient, tg.url("web")+"/expected/", "X-Request-Id", "openssl-expected")
		if resp.StatusCode != 200 {
			t.Fatalf("got %d %q, want 200", resp.StatusCode, body)
		}
		if !strings.Contains(body, "Client certificate") || !strings.Contains(body, "URI:"+gatewayID) {
			t.Errorf("s_server's page does not show the gateway's certificate %s: %q", gatewayID, body)
		}
		if !strings.Contains(good.out.String(), "verify return:1") || strings.Contains(good.out.String(), "verify error") {
			t.Errorf("s_server did not verify the gateway's certificate: %s", good.out)
		}
		e := tg.logFor("openssl-expected")
		if e["upstream_peer_uri_san"] != backendID {
			t.Errorf("access log: upstream_peer_uri_san %v, want %s", e["upstream_peer_uri_san"], backendID)
		}
	})

	t.Run("unexpected principal", func(t *testing.T) {
		resp, body := get(t, http.DefaultClient, tg.url("web")+"/unexpected/", "X-Request-Id", "openssl-unexpected")
		if resp.StatusCode != 503 {
			t.Fatalf("got %d %q, want 503", resp.StatusCode, body)
		}
		if e := tg.logFor("openssl-unexpected"); e["response_flags"] != "UF" || !strings.Contains(fmt.Sprint(e["upstream_transport_failure_reason"]), "CERTIFICATE_VERIFY_FAILED") {
			t.Errorf("access log: flags %v, transport failure reason %v; want UF, CERTIFICATE_VERIFY_FAILED", e["response_flags"], e["upstream_transport_failure_reason"])
		}
	})

	t.Run("a backend that does not trust the gateway", func(t *testing.T) {
		resp, body := get(t, http.DefaultClient, tg.url("web")+"/distrustful/", "X-Request-Id", "openssl-distrustful")
		if resp.StatusCode != 503 || strings.Contains(body, "Client certificate") {
			t.Fatalf("got %d %q, want 503", resp.StatusCode, body)
		}
		waitUntil(t, "s_server's verify error", func() bool { return strings.Contains(distrustful.out.String(), "verify error") })
		if e := tg.logFor("openssl-distrustful"); e["response_flags"] != "UF" || !strings.Contains(fmt.Sprint(e["upstream_transport_failure_reason"]), "TLSV1_ALERT_UNKNOWN_CA") {
			t.Errorf("access log: flags %v, transport failure reason %v; want UF, TLSV1_ALERT_UNKNOWN_CA", e["response_flags"], e["upstream_transport_failure_reason"])
		}
	})
}

// TestOpenSSLClientAsMutualTLSCaller calls a listener with client_auth
// require with `openssl s_client`: with the caller's SVID its request
// reaches the upstream with the caller's identity and the access log
// names it; without a certificate it gets no response and the upstream
// sees nothing.
func TestOpenSSLClientAsMutualTLSCaller(t *testing.T) {
	needOpenSSL(t)
	be := newBackend(t, nil)
	ca := newDevCA(t)
	tg := callerGateway(t, ca, be.addr(), &lockedLog{})
	const callerID = "spiffe://cluster.local/ns/shop/sa/openssl"
	cert, key, bundle := svidDir(t, issueSVID(t, ca, callerID, nil), ca)
	sClient := func(t *testing.T, id string, certArgs ...string) (stdout, stderr string, err error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		args := append([]string{"s_client", "-connect", tg.Addr("require").String(), "-CAfile", bundle,
			"-verify_return_error", "-quiet"}, certArgs...)
		cmd := exec.CommandContext(ctx, "openssl", args...)
		cmd.Stdin = strings.NewReader("GET /who HTTP/1.1\r\nHost: mesh\r\nX-Request-Id: " + id + "\r\nConnection: close\r\n\r\n")
		var errOut strings.Builder
		cmd.Stderr = &errOut
		out, err := cmd.Output()
		return string(out), errOut.String(), err
	}

	t.Run("with the caller's SVID", func(t *testing.T) {
		out, _, err := sClient(t, "openssl-caller", "-cert", cert, "-key", key)
		i := strings.Index(out, "HTTP/1.1 ")
		if i < 0 {
			t.Fatalf("s_client: %v, no response in %q", err, out)
		}
		resp, rerr := http.ReadResponse(bufio.NewReader(strings.NewReader(out[i:])), nil)
		if rerr != nil {
			t.Fatal(rerr)
		}
		defer resp.Body.Close()
		var body strings.Builder
		bufio.NewReader(resp.Body).WriteTo(&body)
		if resp.StatusCode != 200 {
			t.Fatalf("got %d %q, want 200", resp.StatusCode, body.String())
		}
		want := callerID + "|cluster.local/ns/shop/sa/openssl|cluster.local|shop|openssl"
		if got := decodeSeen(t, body.String()).Header.Get("X-Test-Identity"); got != want {
			t.Errorf("the plugins saw %q, want %q", got, want)
		}
		if e := tg.logFor("openssl-caller"); e["downstream_peer_uri_san"] != callerID {
			t.Errorf("access log: downstream_peer_uri_san %v, want %s", e["downstream_peer_uri_san"], callerID)
		}
	})

	t.Run("without a certificate", func(t *testing.T) {
		hits := be.hits.Load()
		out, errOut, err := sClient(t, "openssl-anonymous")
		if err == nil || strings.Contains(out, "HTTP/1.1") || !strings.Contains(errOut, "SSL alert number 116") {
			t.Errorf("s_client without a certificate: %v, %q, %q; want the handshake refused with alert 116, certificate_required", err, out, errOut)
		}
		if n := be.hits.Load() - hits; n != 0 {
			t.Errorf("the upstream served %d requests, want none", n)
		}
	})
}
