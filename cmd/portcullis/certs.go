package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/portcullis-gw/portcullis/routes/identity"
	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

const certsUsage = `usage:
  portcullis certs init --trust-domain DOMAIN --dir DIR [--ttl DURATION]
      make a development root CA for DOMAIN in DIR (ca.crt, ca.key); refuses to overwrite one
  portcullis certs issue --dir DIR --spiffe-id ID [--dns NAME]... [--ttl 24h] [--out-dir OUT]
      issue an X.509-SVID for ID from DIR's CA into OUT (default DIR/<ID's path, / as -, - as _-, _ as __>):
      tls.crt, tls.key and ca.crt, as cert-manager's csi-driver-spiffe writes them
  portcullis certs bundle --dir DIR [--out FILE]
      print DIR's trust bundle, or write it to FILE
  portcullis certs inspect [--bundle FILE] FILE
      show each certificate in FILE: SPIFFE ID, trust domain, validity, issuer, and what is
      wrong with it; with --bundle, also whether it verifies against that trust bundle
Files are written 0600. The CA is for development and tests: in a cluster, cert-manager's
csi-driver-spiffe or SPIRE issues the identities.
`

// certs runs the development CA's subcommands.
func certs(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		w := stdout
		if len(args) == 0 {
			w = stderr
		}
		fmt.Fprint(w, certsUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "init":
		return certsInit(args, stdout, stderr)
	case "issue":
		return certsIssue(args, stdout, stderr)
	case "bundle":
		return certsBundle(args, stdout, stderr)
	case "inspect":
		return certsInspect(args, stdout, stderr)
	}
	fmt.Fprintf(stderr, "portcullis certs: unknown command %q\n%s", sub, certsUsage)
	return 2
}

// certsFlags is a flag set for one certs subcommand that prints the certs
// usage on -h and errors on stray arguments.
func certsFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("certs "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, certsUsage) }
	return fs
}

// parseCerts parses args into fs, wanting nargs positional arguments, and
// returns the exit code for a failure, or -1.
func parseCerts(fs *flag.FlagSet, args []string, nargs int, stderr io.Writer) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != nargs {
		if fs.NArg() > nargs {
			fmt.Fprintf(stderr, "portcullis %s: unexpected argument %q\n", fs.Name(), fs.Arg(nargs))
		} else {
			fmt.Fprintf(stderr, "portcullis %s: missing FILE\n", fs.Name())
		}
		return 2
	}
	return -1
}

// required reports the flags left empty among nameValue, pairs of a flag's
// name and its value.
func required(stderr io.Writer, cmd string, nameValue ...string) bool {
	ok := true
	for i := 0; i+1 < len(nameValue); i += 2 {
		if nameValue[i+1] == "" {
			fmt.Fprintf(stderr, "portcullis certs %s: --%s is required\n", cmd, nameValue[i])
			ok = false
		}
	}
	return ok
}

func certsInit(args []string, stdout, stderr io.Writer) int {
	fs := certsFlags("init", stderr)
	tdName := fs.String("trust-domain", "", "the trust domain, such as cluster.local")
	dir := fs.String("dir", "", "the directory to keep the CA in")
	ttl := fs.Duration("ttl", devca.DefaultCATTL, "how long the root is valid")
	if code := parseCerts(fs, args, 0, stderr); code >= 0 {
		return code
	}
	if !required(stderr, "init", "trust-domain", *tdName, "dir", *dir) {
		return 2
	}
	td, err := spiffeid.TrustDomainFromString(*tdName)
	if err != nil {
		fmt.Fprintf(stderr, "portcullis certs init: --trust-domain %q: %v\n", *tdName, err)
		return 2
	}
	ca, err := devca.New(td, *ttl)
	if err == nil {
		var paths []string
		if paths, err = ca.Save(*dir); err == nil {
			fmt.Fprintf(stdout, "made a development root CA for trust domain %s, valid until %s\n", td.Name(), ca.Cert.NotAfter.UTC().Format(time.RFC3339))
			printWrote(stdout, paths)
			return 0
		}
	}
	fmt.Fprintln(stderr, "portcullis certs init:", err)
	return 1
}

// stringList is a flag that may be given many times.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func certsIssue(args []string, stdout, stderr io.Writer) int {
	fs := certsFlags("issue", stderr)
	dir := fs.String("dir", "", "the CA's directory (certs init)")
	rawID := fs.String("spiffe-id", "", "the workload's SPIFFE ID, such as spiffe://cluster.local/ns/shop/sa/api")
	var dns stringList
	fs.Var(&dns, "dns", "a DNS name to add as a SAN (repeatable)")
	ttl := fs.Duration("ttl", devca.DefaultTTL, "how long the SVID is valid")
	outDir := fs.String("out-dir", "", "where to write tls.crt, tls.key and ca.crt (default DIR/<ID's path, / as -, - as _-, _ as __>)")
	if code := parseCerts(fs, args, 0, stderr); code >= 0 {
		return code
	}
	if !required(stderr, "issue", "dir", *dir, "spiffe-id", *rawID) {
		return 2
	}
	id, err := spiffeid.FromString(*rawID)
	if err != nil {
		fmt.Fprintf(stderr, "portcullis certs issue: --spiffe-id %q: %v\n", *rawID, err)
		return 2
	}
	ca, err := devca.Load(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "portcullis certs issue:", err)
		return 1
	}
	out := *outDir
	if out == "" {
		out = filepath.Join(*dir, svidDirName(id))
	}
	svid, err := ca.Issue(id, devca.IssueOptions{DNSNames: dns, TTL: *ttl})
	if err != nil {
		fmt.Fprintln(stderr, "portcullis certs issue:", err)
		return 1
	}
	if err := ownFolder(out, id); err != nil {
		fmt.Fprintln(stderr, "portcullis certs issue:", err)
		return 1
	}
	paths, err := devca.WriteSVID(out, svid, ca.BundlePEM())
	if err != nil {
		fmt.Fprintln(stderr, "portcullis certs issue:", err)
		return 1
	}
	fmt.Fprintf(stdout, "issued an X.509-SVID for %s, valid until %s\n", id, svid.Certificates[0].NotAfter.UTC().Format(time.RFC3339))
	printWrote(stdout, paths)
	return 0
}

func certsBundle(args []string, stdout, stderr io.Writer) int {
	fs := certsFlags("bundle", stderr)
	dir := fs.String("dir", "", "the CA's directory (certs init)")
	outFile := fs.String("out", "", "write the bundle to this file (0600) instead of printing it")
	if code := parseCerts(fs, args, 0, stderr); code >= 0 {
		return code
	}
	if !required(stderr, "bundle", "dir", *dir) {
		return 2
	}
	ca, err := devca.Load(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "portcullis certs bundle:", err)
		return 1
	}
	if *outFile == "" {
		stdout.Write(ca.BundlePEM())
		return 0
	}
	if err := devca.WriteFile(*outFile, ca.BundlePEM()); err != nil {
		fmt.Fprintln(stderr, "portcullis certs bundle:", err)
		return 1
	}
	fmt.Fprintf(stdout, "trust bundle of %s\n", ca.TrustDomain.Name())
	printWrote(stdout, []string{*outFile})
	return 0
}

func printWrote(w io.Writer, paths []string) {
	for _, p := range paths {
		fmt.Fprintln(w, "wrote", p)
	}
}

// ownFolder refuses dir when it holds the SVID of another ID than id, so
// that issuing one identity never overwrites another's files; an SVID of
// id itself is renewed.
func ownFolder(dir string, id spiffeid.ID) error {
	p := filepath.Join(dir, devca.CertFile)
	pemBytes, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	certs, _, err := readCertificates(pemBytes)
	if err != nil {
		return fmt.Errorf("%s holds no certificate this command wrote; remove it or choose another --out-dir", p)
	}
	other, _, err := identity.IDFromCert(certs[0])
	switch {
	case err != nil:
		return fmt.Errorf("%s holds a certificate without a SPIFFE ID; remove it or choose another --out-dir", p)
	case other != id:
		return fmt.Errorf("%s holds the SVID of %s, not %s; remove it or choose another --out-dir", p, other, id)
	}
	return nil
}
