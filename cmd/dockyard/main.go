// Command dockyard is the one binary of Dockyard: the server, the in-container
// agent and the command-line client.
package main

import (
	"os"

	"github.com/dockyard/dockyard/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
