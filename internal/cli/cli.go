// Package cli holds what vknn's small commands share.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Main runs a command's run with the process's arguments and streams, and
// exits: 0 on success or -help, 1 with "name: error" on stderr otherwise.
func Main(name string, run func(args []string, stdout, stderr io.Writer) error) {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
