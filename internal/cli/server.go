package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/server"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// serverFlags maps the server command's flags to configuration keys.
var serverFlags = []struct{ flag, key, usage string }{
	{"data", "data", "data directory (default ./dockyard-data)"},
	{"addr", "addr", "HOST:PORT to listen on (default 127.0.0.1:8089)"},
	{"tls-cert", "tls.cert_file", "serve this PEM certificate instead of one from the server CA"},
	{"tls-key", "tls.key_file", "private key for --tls-cert"},
	{"log-level", "log.level", "debug, info, warn or error"},
	{"log-format", "log.format", "text or json"},
}

// serverBoolFlags are the server command's switches, by configuration key.
var serverBoolFlags = []struct{ flag, key, usage string }{
	{"dangerously-skip-integrity-check", "storage.skip_integrity_check",
		"start even when the database fails its integrity check (risks losing more data; restore a backup instead)"},
}

// loadConfig reads the configuration: defaults, then --config FILE, then
// DOCKYARD_* variables, then the flags that were set.
func loadConfig(cmd *cobra.Command, env *Env, file string) (config.Config, error) {
	set := map[string]string{}
	for _, f := range append(serverFlags, serverBoolFlags...) {
		if fl := cmd.Flags().Lookup(f.flag); fl != nil && fl.Changed {
			set[f.key] = fl.Value.String()
		}
	}
	return config.Load(file, env.Environ(), set)
}

func addServerFlags(cmd *cobra.Command, file *string) {
	for _, f := range serverFlags {
		cmd.Flags().String(f.flag, "", f.usage)
	}
	for _, f := range serverBoolFlags {
		cmd.Flags().Bool(f.flag, false, f.usage)
	}
	cmd.Flags().StringVar(file, "config", "", "YAML configuration file")
}

func newServerCmd(env *Env) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "server [--data DIR] [--addr HOST:PORT] [--config FILE]",
		Short: "Run the Dockyard server (HTTPS API, registry, search, containers)",
		Long: `Serves the HTTPS API until SIGTERM or SIGINT. Settings come from the defaults, then
--config FILE, then DOCKYARD_* variables, then these flags (docs/configuration.md lists
every key). The first start creates the data directory, the server CA and the admin
user (password from DOCKYARD_ADMIN_PASSWORD, else printed once).

At start the server runs SQLite's quick_check on its database and refuses to start on a
damaged one, saying how to restore it (docs/operations.md);
--dangerously-skip-integrity-check starts anyway, at the risk of losing more data.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, env, file)
			if err != nil {
				return err
			}
			log, err := telemetry.NewLogger(env.Stderr, cfg.Log.Level, cfg.Log.Format)
			if err != nil {
				return err
			}
			srv, err := server.New(cmd.Context(), cfg, log, server.Options{
				Out: env.Stdout, AdminPassword: env.Getenv("DOCKYARD_ADMIN_PASSWORD"),
			})
			if err != nil {
				return err
			}
			defer srv.Close()
			fmt.Fprintf(env.Stdout, "Dockyard is listening on %s\nLog in with: dockyard login --server %s --ca-file %s --user admin --password-stdin\n",
				srv.URL(), srv.URL(), srv.CAFile())
			return srv.Serve(cmd.Context())
		},
	}
	addServerFlags(cmd, &file)
	return cmd
}
