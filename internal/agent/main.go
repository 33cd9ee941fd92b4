package agent

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Main is `dockyard agent`: it parses args (without the "agent" word),
// serves until SIGTERM, SIGINT or ctx's end, and returns the error that
// stopped it. The token comes from --token-file or the environment variable
// DOCKYARD_AGENT_TOKEN, never from the command line.
//
// Trace export is configured by the DOCKYARD_OTEL_* variables (see
// TraceEnv), which are removed from the environment before notebooks run.
//
// Flags: --addr HOST:PORT, --cert FILE, --key FILE, --client-ca FILE,
// --token-file FILE, --root DIR, --python PATH, --pandas auto|require|never,
// --max-body BYTES.
func Main(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("dockyard agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:0", "listen address")
	fs.StringVar(&cfg.CertFile, "cert", "", "server certificate (PEM)")
	fs.StringVar(&cfg.KeyFile, "key", "", "server key (PEM)")
	fs.StringVar(&cfg.ClientCAFile, "client-ca", "", "require client certificates from this CA")
	fs.StringVar(&cfg.TokenFile, "token-file", "", "file holding the bearer token")
	fs.StringVar(&cfg.Root, "root", "", "container root directory")
	fs.StringVar(&cfg.Python, "python", os.Getenv("DOCKYARD_AGENT_PYTHON"), "Python interpreter for notebooks (default python3)")
	fs.StringVar(&cfg.Pandas, "pandas", "auto", "auto, require or never: whether notebooks get pandas DataFrames")
	fs.Int64Var(&cfg.MaxBodyBytes, "max-body", 0, "request body limit in bytes (0: 4 GiB)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("dockyard agent: unexpected arguments %q", fs.Args())
	}
	if cfg.TokenFile == "" {
		cfg.Token = os.Getenv("DOCKYARD_AGENT_TOKEN")
	}
	os.Unsetenv("DOCKYARD_AGENT_TOKEN") // notebooks inherit the environment
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
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
