package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

// newContainersOpenCmd starts a development container if needed, waits
// for its Jupyter and prints the URL the server proxies it at.
func newContainersOpenCmd(env *Env, g *globals) *cobra.Command {
	var noBrowser bool
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "open [__dev__ | USER/__dev__] [--no-browser] [--wait 2m]",
		Short: "Open Jupyter in your development container: start it if needed and print its URL (needs control_mltk_container)",
		Long: "Start your development container (__dev__, the default) if it is not running, wait until its Jupyter server\n" +
			"answers through the server, and print its URL: SERVER/jupyter/OWNER/__dev__/. On a terminal with a graphical\n" +
			"display the URL is also opened with xdg-open (--no-browser: never). The server proxies Jupyter for the\n" +
			"container's owner and administrators, authenticated by your Dockyard login (the web session in a browser);\n" +
			"Jupyter's own token never leaves the container. Administrators open another user's as USER/__dev__.\n" +
			"Notebooks saved there are stored as notebook versions within seconds: `fit ... algo=NAME` runs them.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "__dev__"
			if len(args) == 1 {
				name = args[0]
			}
			if name != "__dev__" && !strings.HasSuffix(name, "/__dev__") {
				return usagef("containers open: only development containers run Jupyter: give __dev__ (yours) or USER/__dev__")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			x, err := c.StartContainer(ctx, name, wire.ContainerStart{})
			if err != nil {
				return err
			}
			path := wire.JupyterPath(x.Owner, "__dev__")
			out := wire.JupyterOpen{Name: name, Owner: x.Owner, URL: strings.TrimRight(c.Server(), "/") + path}
			out.Ready, err = waitJupyter(ctx, c, path, wait)
			if err != nil {
				return err
			}
			if !out.Ready {
				fmt.Fprintf(env.Stderr, "note: Jupyter did not answer within %s; it may still be starting (see `dockyard containers logs %s`)\n", wait, name)
			}
			t := &table{header: []string{"url"}}
			t.add(out.URL)
			if g.output == "" || g.output == "table" {
				fmt.Fprintln(env.Stdout, out.URL)
			} else if err := env.print(g, out, t); err != nil {
				return err
			}
			if !noBrowser && isTerminal(env.Stdout) && (env.Getenv("DISPLAY") != "" || env.Getenv("WAYLAND_DISPLAY") != "") {
				if p, err := exec.LookPath("xdg-open"); err == nil {
					b := exec.Command(p, out.URL)
					b.Stdout, b.Stderr = io.Discard, io.Discard
					if err := b.Start(); err == nil {
						go func() { _ = b.Wait() }()
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "only print the URL")
	cmd.Flags().DurationVar(&wait, "wait", 2*time.Minute, "how long to wait for Jupyter to answer (0: do not wait)")
	return cmd
}

// waitJupyter polls Jupyter's api/status through the server until it
// answers, for up to wait; it reports whether it did. A refusal (not
// found, forbidden) is returned at once.
func waitJupyter(ctx context.Context, c *client.Client, path string, wait time.Duration) (bool, error) {
	deadline := time.Now().Add(wait)
	for {
		resp, err := c.Raw(ctx, "GET", path+"api/status", nil, "")
		if resp != nil {
			resp.Body.Close()
		}
		switch {
		case err == nil && resp.StatusCode == http.StatusOK:
			return true, nil
		case err != nil && !errdefs.IsUnavailable(err):
			return false, err
		}
		if !time.Now().Before(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
