package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	dyclient "github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/wire"
)

// builtImage is what images build prints with --no-add.
type builtImage struct {
	Ref    string `json:"ref"`
	ID     string `json:"id"`
	Cached bool   `json:"cached"`
	RootFS string `json:"rootfs,omitempty"`
	Agent  string `json:"agent_digest"`
}

func newImagesBuildCmd(env *Env, g *globals) *cobra.Command {
	var (
		o                 images.BuildOptions
		title, dockerHost string
		extra             []string
		gpu, noAdd        bool
	)
	cmd := &cobra.Command{
		Use: "build NAME [--gpu] [--agent FILE] [--cache-dir DIR] [--refresh] [--tag REF] [--no-add]",
		Short: "Build a golden image from Debian packages (debootstrap; python3, pandas, numpy, scikit-learn, Jupyter Notebook and the static agent), " +
			"import it into the Docker Engine on this machine and add or re-pin catalogue entry NAME (needs root here, and configure_mltk_container)",
		Long: `Builds the agent image without any registry, on the Docker host, as root:
debootstrap makes a minimal Debian root file system, apt installs the
packages in it (python3, pandas, numpy, scikit-learn, jupyter-notebook),
the static dockyard agent goes in as /dockyard, and the result is imported
into the Docker Engine as one layer tagged --tag, with labels naming the
entry, the packages and the agent's digest. Then catalogue entry NAME is
added (images add NAME --ref TAG) or, when it exists, re-pinned to it
(images update). Progress goes to standard error, step by step.

The root file system is kept in --cache-dir by a key of the suite, mirror,
architecture and packages, so the next build (a new agent) takes seconds;
--refresh builds it again. --gpu marks the entry for GPUs: the packages
are the same, since CUDA is not in Debian main (docs/images.md).`,
		Args: needArgs(1, "the catalogue entry's NAME (golden-cpu, golden-gpu)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if err := images.CheckName(o.Name); err != nil {
				return err
			}
			if o.Ref == "" {
				o.Ref = "dockyard/" + o.Name + ":latest"
			}
			if len(extra) > 0 {
				o.Packages = append(append([]string(nil), images.GoldenPackages...), extra...)
			}
			if o.Agent == "" {
				exe, err := os.Executable()
				if err != nil {
					return fmt.Errorf("finding this dockyard executable for the agent: %w: give --agent FILE", err)
				}
				o.Agent = exe
			}
			var c *dyclient.Client
			var existing *wire.Image
			if !noAdd {
				// Ask the server first: a wrong token or a missing
				// capability fails before a long build.
				var err error
				if c, err = env.client(g); err != nil {
					return err
				}
				im, err := c.Image(cmd.Context(), o.Name)
				switch {
				case err == nil:
					existing = &im
				case !errdefs.IsNotFound(err):
					return err
				}
			}
			imp, err := newEngineImporter(dockerHost)
			if err != nil {
				return err
			}
			defer imp.cli.Close()
			o.Importer = imp
			o.Progress = env.Stderr
			res, err := images.Build(cmd.Context(), o)
			if err != nil {
				return err
			}
			if noAdd {
				out := builtImage{Ref: res.Ref, ID: res.ID, Cached: res.Cached, RootFS: res.RootFS, Agent: res.AgentSum}
				t := &table{header: []string{"ref", "id", "cached_rootfs", "agent_digest"}}
				t.add(out.Ref, out.ID, fmt.Sprint(out.Cached), out.Agent)
				return env.print(g, out, t)
			}
			var im wire.Image
			if existing == nil {
				fmt.Fprintf(env.Stderr, "==> adding %s to the catalogue (images add %s --ref %s)\n", o.Name, o.Name, res.Ref)
				req := wire.ImageAdd{Name: o.Name, Ref: res.Ref, Title: title, GPU: gpu}
				if req.Title == "" {
					req.Title = "Golden image (CPU)"
					if gpu {
						req.Title = "Golden image (GPU)"
					}
				}
				im, err = c.AddImage(cmd.Context(), req)
			} else {
				fmt.Fprintf(env.Stderr, "==> re-pinning %s (images update %s --ref %s)\n", o.Name, o.Name, res.Ref)
				req := wire.ImageUpdate{Ref: &res.Ref}
				if cmd.Flags().Changed("gpu") {
					req.GPU = &gpu
				}
				if cmd.Flags().Changed("title") {
					req.Title = &title
				}
				im, err = c.UpdateImage(cmd.Context(), o.Name, req)
			}
			if err != nil {
				return fmt.Errorf("image %s is built and in the engine as %s, but the catalogue refused it: %w", o.Name, res.Ref, err)
			}
			env.noteScan(im)
			return env.print(g, im, imagesTable([]wire.Image{im}))
		},
	}
	f := cmd.Flags()
	f.BoolVar(&gpu, "gpu", false, "mark the entry as built for GPUs (golden-gpu)")
	f.StringVar(&title, "title", "", "the entry's title (default: Golden image (CPU) or (GPU))")
	f.StringVar(&o.Agent, "agent", "", "the static dockyard executable to put in as /dockyard (default: this executable, which must be static: CGO_ENABLED=0)")
	f.StringVar(&o.CacheDir, "cache-dir", defaultBuildCache(), "directory that keeps built root file systems between builds (\"\" keeps none)")
	f.BoolVar(&o.Refresh, "refresh", false, "build the root file system again even when the cache has it")
	f.StringVar(&o.Ref, "tag", "", "the reference to tag the image with in the engine (default dockyard/NAME:latest)")
	f.StringVar(&o.Suite, "suite", images.DefaultSuite, "the Debian release")
	f.StringVar(&o.Mirror, "mirror", images.DefaultMirror, "the Debian mirror")
	f.StringSliceVar(&extra, "package", nil, "another Debian package to install (repeatable)")
	f.BoolVar(&noAdd, "no-add", false, "build and import only; leave the catalogue alone (no server needed)")
	f.StringVar(&dockerHost, "docker-host", "", "the Docker Engine (default: DOCKER_HOST, else the local socket)")
	return cmd
}

// defaultBuildCache is the cache of root file systems: under the user's
// cache directory (/root/.cache/dockyard/rootfs for root).
func defaultBuildCache() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return d + "/dockyard/rootfs"
}

// engineImporter imports root file systems into the Docker Engine.
type engineImporter struct{ cli *client.Client }

func newEngineImporter(host string) (*engineImporter, error) {
	opts := []client.Opt{client.FromEnv}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	c, err := client.New(opts...)
	if err != nil {
		return nil, errdefs.Unavailablef("the Docker Engine: %w: images build imports the image there (--docker-host, DOCKER_HOST)", err)
	}
	return &engineImporter{cli: c}, nil
}

// ImportImage implements images.Importer: the engine's import, whose
// answer is a stream of JSON messages ending with the image id.
func (e *engineImporter) ImportImage(ctx context.Context, rootfs io.Reader, ref string, changes []string) (string, error) {
	resp, err := e.cli.ImageImport(ctx, client.ImageImportSource{Source: rootfs, SourceName: "-"}, ref, client.ImageImportOptions{Changes: changes})
	if err != nil {
		return "", errdefs.Unavailablef("the Docker Engine refused the import: %w", err)
	}
	defer resp.Close()
	dec := json.NewDecoder(resp)
	for {
		var m struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("reading the engine's answer to the import: %w", err)
		}
		if m.Error != "" {
			return "", errdefs.Unavailablef("the Docker Engine: %s", m.Error)
		}
	}
	in, err := e.cli.ImageInspect(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("the imported image %s: %w", ref, err)
	}
	if !strings.HasPrefix(in.ID, "sha256:") {
		return "", fmt.Errorf("the imported image %s has id %q", ref, in.ID)
	}
	return in.ID, nil
}
