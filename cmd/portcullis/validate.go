package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

func validateFlags(*flag.FlagSet) func([]string, io.Writer, io.Writer) int {
	return validate
}

// validate loads each file as serve would, without opening a socket, and
// reports every error of every file, and every warning (which does not
// change the exit status). It exits 1 if any file has an error.
func validate(files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		fmt.Fprintln(stderr, "portcullis validate: no file given")
		return 2
	}
	reg, err := registry(waf.New(waf.Options{}), authz.New(nil))
	if err != nil {
		fmt.Fprintln(stderr, "portcullis:", err)
		return 2
	}
	code := 0
	for _, f := range files {
		cfg, err := routes.Load(f, reg)
		if err != nil {
			code = 1
			var errs routes.Errors
			if errors.As(err, &errs) {
				for _, e := range errs {
					fmt.Fprintln(stderr, e)
				}
			} else {
				fmt.Fprintf(stderr, "%s: %v\n", f, err)
			}
			continue
		}
		for _, w := range cfg.Warnings() {
			fmt.Fprintf(stderr, "%s: warning: %s\n", f, w)
		}
		fmt.Fprintln(stdout, cfg.Summary())
		cfg.Close()
	}
	return code
}
