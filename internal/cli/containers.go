package cli

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newContainersCmd) }

func containersTable(cs []wire.Container) *table {
	t := &table{header: []string{"name", "owner", "status", "image", "runtime", "model", "gpus", "endpoint", "started", "shared"}}
	for _, c := range cs {
		status := c.Status
		if c.Message != "" && (c.Status == "failed" || c.Status == "lost" || c.Status == "exited") {
			status += " (" + c.Message + ")"
		}
		started := "-"
		if c.Started != nil {
			started = fmtTime(*c.Started)
		}
		t.add(c.Name, c.Owner, status, c.Image, c.Runtime, dash(c.Model), strconv.Itoa(c.GPUs), dash(c.Endpoint), started,
			dash(strings.Join(c.Roles, ",")))
	}
	return t
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newContainersCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "containers", Short: "List, start and stop the containers fits run in"}
	list := &cobra.Command{
		Use: "list", Short: "List your containers and those shared with your roles (needs list_mltk_container)", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.Container, error) {
			return c.Containers(cmd.Context())
		}, containersTable),
	}
	var image, rt, model, cert string
	var gpus int
	var force bool
	start := &cobra.Command{
		Use:   "start NAME [--image IMAGE] [--runtime process|docker] [--model MODEL] [--gpus N] [--cert NAME]",
		Short: "Start a container (needs control_mltk_container; GPUs need use_gpu). NAME __dev__ is your development container",
		Args:  needArgs(1, "the container NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.Container, error) {
			return c.StartContainer(cmd.Context(), args[0], wire.ContainerStart{Image: image, Runtime: rt, Model: model, GPUs: gpus, Cert: cert})
		}, one(containersTable)),
	}
	start.Flags().StringVar(&image, "image", "", "an image of the catalogue, by name (`dockyard images list`; default: containers.default_image)")
	start.Flags().StringVar(&rt, "runtime", "", "container runtime: process or docker (default: the image's)")
	start.Flags().StringVar(&model, "model", "", "the model this container serves")
	start.Flags().IntVar(&gpus, "gpus", 0, "number of GPUs (needs use_gpu, a GPU image and room in the owner's GPU quota: `dockyard gpu list`)")
	start.Flags().StringVar(&cert, "cert", "", "an operator certificate pair NAME.pem/NAME.key in containers.certs_dir for the agent, instead of its image's or one the server CA issues (needs configure_mltk_container)")
	stop := &cobra.Command{
		Use: "stop NAME [--force]", Short: "Stop a container you own (needs control_mltk_container)", Args: needArgs(1, "the container NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.Container, error) {
			return c.StopContainerWith(cmd.Context(), args[0], force)
		}, one(containersTable)),
	}
	remove := env.deleteCmd(g, deleteSpec{
		use: "remove NAME [--force]", short: "Stop a container you own and delete it with its files and record (needs control_mltk_container)",
		argWhat: "the container NAME", noun: "container", more: " with its files and record", remove: true,
		del: func(cmd *cobra.Command, c *client.Client, name string) error {
			return c.RemoveContainerWith(cmd.Context(), name, force)
		},
	})
	remove.Aliases = []string{"rm"}
	stop.Flags().BoolVar(&force, "force", false, "stop even when the final notebook sync fails (unsaved edits are lost; audited)")
	remove.Flags().BoolVar(&force, "force", false, "remove even when the final notebook sync fails (unsaved edits are lost; audited)")
	var since string
	logs := &cobra.Command{
		Use: "logs NAME [--since 10m|RFC3339]", Short: "Print the output of a container you own (needs control_mltk_container)",
		Args: needArgs(1, "the container NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var t time.Time
			if since != "" {
				if d, err := time.ParseDuration(since); err == nil {
					t = time.Now().Add(-d)
				} else if t, err = time.Parse(time.RFC3339, since); err != nil {
					return errdefs.Invalid("--since takes a duration such as 10m or an RFC 3339 time")
				}
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			rc, err := c.ContainerLogs(cmd.Context(), args[0], t)
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = io.Copy(env.Stdout, rc)
			return err
		},
	}
	logs.Flags().StringVar(&since, "since", "", "only output written since this long ago or this time")
	cmd.AddCommand(list, start, stop, remove, logs, newContainersRegisterCmd(env, g), newContainersShareCmd(env, g),
		newContainersOpenCmd(env, g))
	return cmd
}

// newContainersRegisterCmd registers an external container endpoint. Its
// --ca-file is the endpoint's CA; the server's CA then comes from
// DOCKYARD_CA_FILE or the saved login.
func newContainersRegisterCmd(env *Env, g *globals) *cobra.Command {
	var u, caFile, model string
	var tokenStdin bool
	cmd := &cobra.Command{
		Use:   "register NAME --url https://HOST:PORT --token-stdin [--ca-file FILE] [--model MODEL]",
		Short: "Register an already-running container API endpoint (needs configure_mltk_container)",
		Long: "Register an already-running container API endpoint (needs configure_mltk_container).\n" +
			"Here --ca-file is the CA that verifies the container's endpoint; the server's CA comes from DOCKYARD_CA_FILE or your saved login.\n" +
			"The token is read from standard input, stored encrypted and never shown again (only its last four characters).",
		Args: needArgs(1, "the container NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if u == "" {
				return usagef("containers register needs --url https://HOST:PORT of the container API")
			}
			if !tokenStdin {
				return usagef("containers register reads the container's token from standard input only: pass --token-stdin")
			}
			b, err := io.ReadAll(io.LimitReader(env.Stdin, 64<<10))
			if err != nil {
				return err
			}
			tok := strings.TrimSpace(string(b))
			if tok == "" {
				return errdefs.Invalid("no token on standard input: pipe it in, e.g. `echo \"$TOKEN\" | dockyard containers register ... --token-stdin`")
			}
			pem, err := caFlagPEM(caFile)
			if err != nil {
				return err
			}
			req := wire.ContainerRegister{URL: u, Token: tok, Model: model, CAPEM: pem}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			x, err := c.RegisterContainer(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			return env.print(g, x, containersTable([]wire.Container{x}))
		},
	}
	cmd.Flags().StringVar(&u, "url", "", "https URL of the container API")
	cmd.Flags().BoolVar(&tokenStdin, "token-stdin", false, "read the container API token from standard input")
	cmd.Flags().StringVar(&caFile, "ca-file", "", "PEM CA bundle that verifies the container's certificate (default: system roots)")
	cmd.Flags().StringVar(&model, "model", "", "the model this container serves")
	return cmd
}
