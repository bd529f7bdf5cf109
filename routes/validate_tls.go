package routes

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// maxPEM bounds a certificate, key or CA file. Real ones are a few
// kilobytes (a CA bundle a few hundred); the bound keeps a path such as
// /dev/zero from hanging the load.
const maxPEM = 4 << 20

func (c *checker) checkListenerTLS(s scope, t *ListenerTLS) {
	switch {
	case len(t.Certificates) == 0 && !t.SelfSigned && !t.Identity:
		s.errorf(t, "tls: needs certificates, self_signed or identity")
	case len(t.Certificates) > 0 && t.SelfSigned:
		s.errorf(&t.SelfSigned, "tls: certificates and self_signed cannot both be set")
	case t.Identity && (len(t.Certificates) > 0 || t.SelfSigned):
		s.errorf(&t.Identity, "tls: identity cannot be set with certificates or self_signed")
	case t.Identity && c.f.Identity == nil:
		s.errorf(&t.Identity, "tls.identity: needs the identity block, whose SVID the listener presents")
	}
	s.oneOf("tls.client_auth", &t.ClientAuth, "none", "optional", "require")
	if t.ClientAuth != "none" && c.f.Identity == nil {
		s.errorf(&t.ClientAuth, "tls.client_auth: needs the identity block, whose trust bundles verify callers")
	}
	for i := range t.Certificates {
		ck := &t.Certificates[i]
		field := fmt.Sprintf("tls.certificates[%d]", i)
		if ck.Cert == "" || ck.Key == "" {
			s.errorf(ck, "%s: needs both cert and key", field)
			continue
		}
		// Loading the pair now, rather than when the listener starts,
		// turns a missing file or a key that belongs to another
		// certificate into an error that names its line.
		certPEM, err := readPEM(ck.Cert, c.abs(ck.Cert))
		var keyPEM []byte
		if err == nil {
			keyPEM, err = readPEM(ck.Key, c.abs(ck.Key))
		}
		if err == nil {
			_, err = tls.X509KeyPair(certPEM, keyPEM)
		}
		if err != nil {
			s.errorf(ck, "%s: %v", field, err)
		}
		ck.Cert, ck.Key = c.abs(ck.Cert), c.abs(ck.Key)
	}
	switch t.MinVersion {
	case "":
		t.MinVersion = "1.2"
	case "1.2", "1.3":
	default:
		s.errorf(&t.MinVersion, "tls.min_version: must be \"1.2\" or \"1.3\", got %q", t.MinVersion)
	}
}

// checkCAFile checks that an upstream's CA file holds a certificate, so that
// a wrong file fails the load and not every request to the upstream.
func (c *checker) checkCAFile(s scope, t *UpstreamTLS) {
	if t.CAFile == "" {
		return
	}
	written := t.CAFile
	t.CAFile = c.abs(t.CAFile)
	data, err := readPEM(written, t.CAFile)
	switch {
	case err != nil:
		s.errorf(&t.CAFile, "tls.ca_file: %v", err)
	case !x509.NewCertPool().AppendCertsFromPEM(data):
		s.errorf(&t.CAFile, "tls.ca_file: %q holds no PEM certificate", written)
	}
}

// readPEM reads a file of key material at path, which the routes file wrote
// as written; errors name it as written, so that messages do not depend on
// where the routes file was loaded from. Only regular files up to maxPEM
// are read.
func readPEM(written, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, readError(written, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, readError(written, err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("cannot read %q: not a regular file", written)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPEM+1))
	switch {
	case err != nil:
		return nil, readError(written, err)
	case len(data) > maxPEM:
		return nil, fmt.Errorf("cannot read %q: larger than %s", written, Size(maxPEM))
	}
	return data, nil
}

// readError drops the resolved path from a path error, keeping its cause.
func readError(written string, err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		err = pe.Err
	}
	return fmt.Errorf("cannot read %q: %w", written, err)
}
