package cli

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ownFlags are the top-level commands that are no client of a server: they
// take only their own flags, not the client flags.
var ownFlags = map[string]bool{"server": true, "agent": true, "quickstart": true, docsCommand: true}

// clientFlagSet holds the client flags (--server, --token, -o, ...) until
// attachClientFlags gives them to the client commands.
func clientFlagSet() *pflag.FlagSet { return pflag.NewFlagSet("client", pflag.ContinueOnError) }

// attachClientFlags makes pf's flags persistent flags of every top-level
// command but those in ownFlags, so `dockyard server --help` lists only the
// server's. The flags are shared, not copied: whichever command runs sets
// the same globals.
func attachClientFlags(root *cobra.Command, pf *pflag.FlagSet) {
	for _, cmd := range root.Commands() {
		if !ownFlags[cmd.Name()] {
			cmd.PersistentFlags().AddFlagSet(pf)
		}
	}
}
