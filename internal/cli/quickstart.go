package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/examples"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"

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
	if ok, why := srv.ProcessSandbox(); ok {
		fmt.Fprintln(out, "==> Containers run in a bubblewrap sandbox (containers.process.sandbox)")
	} else if cfg.Containers.Runtime == "process" {
		fmt.Fprintf(env.Stderr, "warning: %s\nwarning: the quickstart runs as the administrator, who may use unsandboxed containers; other users may not.\n", why)
	}
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
	var stepErr error
	for _, s := range quickstartSteps {
		if stepErr = s(ctx, q); stepErr != nil {
			break
		}
	}
	// Process-runtime containers outlive their server by design: stop the
	// development container the fit started, so that nothing is left running.
	q.stopDev(ctx)
	if stepErr != nil {
		return stepErr
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
	quickstartPush,
	quickstartUpload,
	quickstartFit,
	quickstartApply,
	quickstartSummary,
	quickstartAudit,
}

const (
	qsNotebook = "linear_regression"
	qsLookup   = "iris.csv"
	qsModel    = "app:QuickstartModel"
)

// exampleFile reads examples/REL from the working directory, else returns
// the copy embedded in the binary; from says which it was.
func exampleFile(rel string, embedded []byte) (b []byte, from string) {
	p := filepath.Join("examples", filepath.FromSlash(rel))
	if b, err := os.ReadFile(p); err == nil {
		return b, p
	}
	return embedded, "the copy built into dockyard"
}

func quickstartPush(ctx context.Context, q *quickstart) error {
	nb, from := exampleFile("notebooks/linear_regression.ipynb", examples.LinearRegression)
	q.step("Pushing the example notebook %s (from %s)", qsNotebook, from)
	res, err := q.c.PushNotebook(ctx, qsNotebook, "ipynb", "", nb)
	if err != nil {
		return err
	}
	fmt.Fprintf(q.out, "Notebook %s version %d (%s)\n", res.Name, res.Version, res.Digest)
	return nil
}

func quickstartUpload(ctx context.Context, q *quickstart) error {
	data, from := exampleFile("data/iris.csv", examples.Iris)
	q.step("Uploading the example data as the lookup %s (from %s)", qsLookup, from)
	l, err := q.c.UploadLookup(ctx, qsLookup, bytes.NewReader(data))
	if err != nil {
		return err
	}
	fmt.Fprintf(q.out, "Lookup %s: %d bytes\n", l.Name, l.Size)
	return nil
}

// search runs spl, prints its messages and returns its rows.
func (q *quickstart) search(ctx context.Context, spl string) ([]wire.Row, error) {
	fmt.Fprintf(q.out, "$ dockyard search '%s'\n", spl)
	res, err := q.c.SearchAll(ctx, spl, "")
	if err != nil {
		return nil, err
	}
	for _, m := range res.Messages {
		fmt.Fprintf(q.out, "  %s\n", m)
	}
	return res.Results, nil
}

func quickstartFit(ctx context.Context, q *quickstart) error {
	q.step("Training the notebook in a container (the first fit starts your development container)")
	rows, err := q.search(ctx, "| inputlookup "+qsLookup+" | fit MLTKContainer algo="+qsNotebook+
		" petal_width from sepal_length sepal_width petal_length into "+qsModel)
	if err != nil {
		return err
	}
	fmt.Fprintf(q.out, "%d rows came back with predicted_petal_width\n", len(rows))
	return nil
}

func quickstartApply(ctx context.Context, q *quickstart) error {
	q.step("Applying the model to a few rows")
	rows, err := q.search(ctx, "| inputlookup "+qsLookup+" | head 5 | apply "+qsModel+
		" as predicted | table sepal_length sepal_width petal_length petal_width predicted")
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return errdefs.Unavailable("apply returned no rows")
	}
	return writeRowsTable(q.out, rows)
}

// quickstartSummaryKeys are the summary rows the quickstart shows.
var quickstartSummaryKeys = []string{"name", "version", "algo", "creator", "container", "rows", "target", "features",
	"notebook_digest", "data_fingerprint", "notebook.intercept", "notebook.r2"}

func quickstartSummary(ctx context.Context, q *quickstart) error {
	q.step("Summarising the model (registry and notebook)")
	rows, err := q.search(ctx, "| summary "+qsModel)
	if err != nil {
		return err
	}
	var keep []wire.Row
	for _, r := range rows {
		k, _ := r.Get("key")
		if slices.Contains(quickstartSummaryKeys, k) || strings.HasPrefix(k, "notebook.coefficients.") {
			keep = append(keep, r)
		}
	}
	return writeRowsTable(q.out, keep)
}

func quickstartAudit(ctx context.Context, q *quickstart) error {
	q.step("Finding the fit in the audit trail")
	rows, err := q.search(ctx, `index=_internal "mltk-container" "into=`+qsModel+`"`)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return errdefs.Unavailable("the fit's audit event was not found in index _internal")
	}
	raw, _ := rows[0].Get("_raw")
	fmt.Fprintln(q.out, raw)
	return nil
}

// stopDev stops the caller's development container if one runs. The model
// stays in the registry; the next apply restores its files.
func (q *quickstart) stopDev(ctx context.Context) {
	c, err := q.c.StopContainer(ctx, "__dev__")
	switch {
	case errdefs.IsNotFound(err):
	case err != nil:
		fmt.Fprintf(q.env.Stderr, "warning: stopping the development container: %v\n", err)
	default:
		q.step("Stopped your development container %s (the model is kept in the registry)", c.Name)
	}
}
