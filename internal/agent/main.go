package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// Flags are the settings of `dockyard agent`, defined on a pflag set: the
// cobra command's (internal/cli) or Main's own.
type Flags struct {
	fs      *pflag.FlagSet
	cfg     Config
	envFile string
}

// NewFlags defines the agent's flags on fs and returns what they will hold
// once fs is parsed.
//
// Flags: --addr HOST:PORT, --cert FILE, --key FILE, --client-ca FILE,
// --token-file FILE, --env-file FILE, --root DIR, --python PATH,
// --pandas auto|require|never, --max-body BYTES, --jupyter-base-url PATH,
// --jupyter PROGRAM.
func NewFlags(fs *pflag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	fs.StringVar(&f.cfg.Addr, "addr", "127.0.0.1:0", "HOST:PORT to listen on")
	fs.StringVar(&f.cfg.CertFile, "cert", "", "server certificate (PEM)")
	fs.StringVar(&f.cfg.KeyFile, "key", "", "server key (PEM)")
	fs.StringVar(&f.cfg.ClientCAFile, "client-ca", "", "require client certificates from this CA")
	fs.StringVar(&f.cfg.TokenFile, "token-file", "", "file holding the bearer token (else DOCKYARD_AGENT_TOKEN)")
	fs.StringVar(&f.envFile, "env-file", "", "start environment file (KEY=VALUE lines, mode 0600), deleted once read; absent is fine")
	fs.StringVar(&f.cfg.Root, "root", "", "container root directory")
	fs.StringVar(&f.cfg.Python, "python", "", "Python interpreter for notebooks (default $DOCKYARD_AGENT_PYTHON, else python3)")
	fs.StringVar(&f.cfg.Pandas, "pandas", "auto", "auto, require or never: whether notebooks get pandas DataFrames")
	fs.Int64Var(&f.cfg.MaxBodyBytes, "max-body", 0, "request body limit in bytes (0: 4 GiB)")
	fs.StringVar(&f.cfg.JupyterBaseURL, "jupyter-base-url", "", "run a Jupyter server under this base URL (/jupyter/OWNER/NAME/), proxied by the agent: a development container")
	fs.StringVar(&f.cfg.Jupyter, "jupyter", "", "the Jupyter program (default: jupyter-lab, else jupyter-notebook, on PATH)")
	return f
}

// Main is `dockyard agent` without cobra (tests re-execute their binary as
// the agent with it): it parses args (without the "agent" word) and runs
// the agent as Flags.Run does.
func Main(ctx context.Context, args []string, stderr io.Writer) error {
	fs := pflag.NewFlagSet("dockyard agent", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	f := NewFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("dockyard agent: unexpected arguments %q", fs.Args())
	}
	return f.Run(ctx, stderr)
}

// Run serves until SIGTERM, SIGINT or ctx's end, and returns the error
// that stopped it. The token comes from --token-file or the environment
// variable DOCKYARD_AGENT_TOKEN, never from the command line.
//
// Trace export is configured by the DOCKYARD_OTEL_* variables (see
// TraceEnv), which are removed from the environment before notebooks run.
//
// --env-file FILE names a start environment file (ApplyEnvFile): its
// variables are read, the file deleted, and they are set in the agent's
// environment before anything else reads it, as if the agent had been
// started with them. A missing file is no error; one with loose
// permissions or another owner is refused. The Docker runtime passes its
// per-start secrets (trace settings, HEC token) this way.
func (f *Flags) Run(ctx context.Context, stderr io.Writer) error {
	cfg, envFile := f.cfg, f.envFile
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	if err := protectProcess(); err != nil {
		return fmt.Errorf("dockyard agent: making the process non-dumpable (so notebooks cannot read its environment): %w", err)
	}
	if envFile != "" {
		names, err := ApplyEnvFile(envFile)
		if err != nil {
			return fmt.Errorf("dockyard agent: --env-file: %w", err)
		}
		if len(names) > 0 {
			// Names only: the values are secrets.
			cfg.Logger.Info("start environment applied", "file", envFile, "variables", names)
		}
	}
	if !f.fs.Changed("python") {
		cfg.Python = os.Getenv("DOCKYARD_AGENT_PYTHON")
	}
	if cfg.TokenFile == "" {
		cfg.Token = os.Getenv("DOCKYARD_AGENT_TOKEN")
	}
	os.Unsetenv("DOCKYARD_AGENT_TOKEN") // notebooks inherit the environment
	cfg.Tracing = tracingFromEnv(ctx, cfg.Logger)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := Run(ctx, cfg)
	if cfg.Tracing != nil {
		// Flush the last spans before the process ends.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if serr := cfg.Tracing.Shutdown(sctx); serr != nil {
			cfg.Logger.Warn("flushing spans at exit", "err", serr)
		}
	}
	return err
}
