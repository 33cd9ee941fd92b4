package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/config"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/server"
	"github.com/dockyard/dockyard/internal/telemetry"
)

func newQuickstartCmd(env *Env) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "quickstart [--data DIR]",
		Short: "Start an embedded server, train the example notebook, apply it, summarise and audit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("addr") {
				cmd.Flags().Set("addr", "127.0.0.1:0")
			}
			cfg, err := loadConfig(cmd, env, file)
			if err != nil {
				return err
			}
			log, err := telemetry.NewLogger(env.Stderr, "warn", cfg.Log.Format)
			if err != nil {
				return err
			}
			return runQuickstart(cmd.Context(), env, cfg, log)
		},
	}
	addServerFlags(cmd, &file)
	return cmd
}

// quickstart holds what the steps share.
type quickstart struct {
	env *Env
	srv *server.Server
	c   *client.Client
	out io.Writer
}

func (q *quickstart) step(format string, args ...any) {
	fmt.Fprintf(q.out, "\n==> "+format+"\n", args...)
}

func runQuickstart(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) error {
	out := env.Stdout
	fmt.Fprintf(out, "==> Starting an embedded Dockyard server (data in %s)\n", cfg.Data)
	srv, err := server.New(ctx, cfg, log, server.Options{Out: out, AdminPassword: env.Getenv("DOCKYARD_ADMIN_PASSWORD")})
	if err != nil {
		return err
	}
	defer srv.Close()
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	defer func() { stop(); <-done }()

	// The quickstart owns the data dir, so it may mint itself a short-lived
	// admin token instead of asking for the admin password.
	secret, err := srv.AdminToken(ctx, "quickstart", time.Hour)
	if err != nil {
		return err
	}
	c, err := client.New(client.Options{Server: srv.URL(), CAFile: srv.CAFile(), Token: secret})
	if err != nil {
		return err
	}
	q := &quickstart{env: env, srv: srv, c: c, out: out}
	for _, s := range quickstartSteps {
		if err := s(ctx, q); err != nil {
			return err
		}
	}
	q.step("Done. To use this server yourself:")
	fmt.Fprintf(out, "  dockyard server --data %s\n  dockyard login --ca-file %s --user admin --password-stdin\n", cfg.Data, srv.CAFile())
	return nil
}

// quickstartSteps run in order against the embedded server.
var quickstartSteps = []func(context.Context, *quickstart) error{
	func(ctx context.Context, q *quickstart) error {
		q.step("Verifying the server over HTTPS with its CA (fingerprint %s)", q.srv.Fingerprint())
		w, err := q.c.Whoami(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(q.out, "Authenticated as %s with roles %v\n", w.User, w.Roles)
		return nil
	},
}
