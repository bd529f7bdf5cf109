package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"

	"github.com/portcullis-gw/portcullis/routes/identity"
)

// certsInspect describes each certificate in a PEM (or DER) file and says
// what is wrong with it. It exits 1 when something is.
func certsInspect(args []string, stdout, stderr io.Writer) int {
	fs := certsFlags("inspect", stderr)
	bundleFile := fs.String("bundle", "", "a trust bundle (PEM) to verify the chain against")
	if code := parseCerts(fs, args, 1, stderr); code >= 0 {
		return code
	}
	file := fs.Arg(0)
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(stderr, "portcullis certs inspect:", err)
		return 1
	}
	certs, notes, err := readCertificates(data)
	if err != nil {
		fmt.Fprintf(stderr, "portcullis certs inspect: %s: %v\n", file, err)
		return 1
	}
	now := time.Now()
	bad := false
	for i, c := range certs {
		role := "leaf"
		if i > 0 {
			role = "chain"
		}
		if c.IsCA && i == 0 {
			role = "CA"
		}
		fmt.Fprintf(stdout, "%s: certificate %d of %d (%s)\n", file, i+1, len(certs), role)
		problems := describe(stdout, c, role, now)
		for _, p := range problems {
			fmt.Fprintln(stdout, "  problem:", p)
		}
		bad = bad || len(problems) > 0
	}
	for _, n := range notes {
		fmt.Fprintln(stdout, "  note:", n)
	}
	if *bundleFile != "" && len(certs) > 0 && !certs[0].IsCA {
		if err := verifyAgainst(certs, *bundleFile, now); err != nil {
			fmt.Fprintf(stdout, "  problem: does not verify against %s: %v\n", *bundleFile, err)
			bad = true
		} else {
			fmt.Fprintf(stdout, "  verifies against %s\n", *bundleFile)
		}
	}
	if bad {
		return 1
	}
	return 0
}

// readCertificates reads the PEM certificates of data, or data as one DER
// certificate, and notes the PEM blocks it skips.
func readCertificates(data []byte) ([]*x509.Certificate, []string, error) {
	var certs []*x509.Certificate
	var notes []string
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			notes = append(notes, fmt.Sprintf("skipped a %q block (not shown)", block.Type))
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 && len(notes) == 0 {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, nil, errors.New("holds no PEM certificate, nor a DER one")
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, nil, fmt.Errorf("holds no certificate (%s)", strings.Join(notes, "; "))
	}
	return certs, notes, nil
}

// describe prints what c is and returns what is wrong with it in its role
// in the file: leaf (an X.509-SVID), chain (a CA above it) or CA (a trust
// bundle's root).
func describe(w io.Writer, c *x509.Certificate, role string, now time.Time) []string {
	var problems []string
	if role == "leaf" {
		id, errs := identity.LeafProblems(c, now, x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth)
		if !id.IsZero() {
			p := identity.NewPeer(id)
			fmt.Fprintf(w, "  SPIFFE ID:     %s\n  trust domain:  %s\n  principal:     %s\n", id, id.TrustDomain().Name(), p.Principal)
			if p.Namespace != "" {
				fmt.Fprintf(w, "  namespace:     %s\n  service acct:  %s\n", p.Namespace, p.ServiceAccount)
			}
		}
		for _, e := range errs {
			problems = append(problems, explain(e))
		}
	} else {
		if len(c.URIs) == 1 {
			fmt.Fprintf(w, "  trust domain:  %s\n", strings.TrimPrefix(c.URIs[0].String(), "spiffe://"))
		}
		if !c.IsCA {
			problems = append(problems, "not a CA certificate, so it can sign nothing: a chain or bundle must hold CAs only")
		}
		if err := validity(c, now); err != "" {
			problems = append(problems, err)
		}
	}
	fmt.Fprintf(w, "  subject:       %s\n  issuer:        %s\n", orDash(c.Subject.String()), orDash(c.Issuer.String()))
	fmt.Fprintf(w, "  valid:         %s to %s (%s)\n", c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339), remaining(c, now))
	fmt.Fprintf(w, "  serial:        %x\n  key:           %s\n", c.SerialNumber, keyName(c))
	if len(c.DNSNames) > 0 {
		fmt.Fprintf(w, "  DNS names:     %s\n", strings.Join(c.DNSNames, ", "))
	}
	if role == "CA" {
		fmt.Fprintln(w, "  a CA certificate: fit for a trust bundle, not to be presented as an SVID")
	}
	return problems
}

// explain turns a refusal into a sentence for the inspect output.
func explain(err error) string {
	r, ok := errors.AsType[*identity.Refusal](err)
	if !ok {
		return err.Error()
	}
	switch r.Reason {
	case identity.NoClientAuth:
		return "cannot authenticate a client: " + r.Err.Error()
	case identity.NoServerAuth:
		return "cannot authenticate a server: " + r.Err.Error()
	case identity.CAAsLeaf:
		return "a CA certificate (or one that may sign certificates) where a workload's SVID belongs"
	}
	return r.Err.Error()
}

func validity(c *x509.Certificate, now time.Time) string {
	switch {
	case now.After(c.NotAfter):
		return "expired " + span(now.Sub(c.NotAfter)) + " ago"
	case now.Before(c.NotBefore):
		return "not valid for another " + span(c.NotBefore.Sub(now))
	}
	return ""
}

// span writes d in days past two of them, else to the second.
func span(d time.Duration) string {
	if d > 48*time.Hour {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.Round(time.Second).String()
}

func remaining(c *x509.Certificate, now time.Time) string {
	if v := validity(c, now); v != "" {
		return v
	}
	return "expires in " + span(c.NotAfter.Sub(now))
}

func keyName(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return c.PublicKeyAlgorithm.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// verifyAgainst verifies the chain certs with go-spiffe against the CAs in
// bundleFile, taken as the bundle of the leaf's trust domain.
func verifyAgainst(certs []*x509.Certificate, bundleFile string, now time.Time) error {
	id, _, err := identity.IDFromCert(certs[0])
	if err != nil {
		return err
	}
	data, err := os.ReadFile(bundleFile)
	if err != nil {
		return err
	}
	b, err := identity.ParseBundle(id.TrustDomain(), data)
	if err != nil {
		return err
	}
	_, err = identity.NewVerifier(x509bundle.NewSet(b)).Verify(certs, x509.ExtKeyUsageClientAuth, now)
	return err
}
