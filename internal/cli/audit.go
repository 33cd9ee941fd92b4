package cli

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newAuditCmd) }

func newAuditCmd(env *Env, g *globals) *cobra.Command {
	return group("audit", "Verify, export and check the tamper-evident audit trail (needs read_audit)",
		newAuditVerifyCmd(env, g), newAuditExportCmd(env, g), newAuditKeyCmd(env, g))
}

func newAuditVerifyCmd(env *Env, g *globals) *cobra.Command {
	var file, keyFile, cpFile, chainKeyFile string
	cmd := &cobra.Command{
		Use:   "verify [--file FILE] [--key PUB.pem] [--checkpoints CHECKPOINTS.jsonl] [--chain-key chain.key]",
		Short: "Check the audit chain: exit 0 and \"ok: N events\" when intact, else name the first bad event",
		Long: `Without --file, the server walks its stored chain and checkpoints.
With --key but no --file, the chain is downloaded and checked here against that key.
With --file, an export is checked offline, without contacting the server: give the
server's public key (from ` + "`dockyard audit key`" + `) with --key; without it the key inside
the file is used, which proves only that the file is consistent with itself.
An export must end at a signed checkpoint: one that is shorter than, diverges from or
goes beyond its latest checkpoint fails. --checkpoints checks it against the server's
external checkpoints file (DATA/audit/checkpoints.jsonl, or a copy of it) the same
way; --chain-key (DATA/audit/chain.key) checks every link's MAC too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var pub ed25519.PublicKey
			if keyFile != "" {
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return errdefs.Invalidf("--key: %w; pass the PEM that `dockyard audit key` prints", err)
				}
				if pub, err = audit.ParsePublicKey(b); err != nil {
					return errdefs.Invalidf("--key %s is not an ed25519 public key (%w); pass the PEM that `dockyard audit key` prints", keyFile, err)
				}
			}
			opts := audit.FileOptions{PublicKey: pub}
			if cpFile != "" {
				cps, err := audit.ReadCheckpointsFile(cpFile)
				if err != nil {
					return errdefs.Invalidf("--checkpoints: %w; pass the server's DATA/audit/checkpoints.jsonl or a copy", err)
				}
				opts.Checkpoints = cps
				if opts.Checkpoints == nil {
					opts.Checkpoints = []store.AuditCheckpoint{}
				}
			}
			if chainKeyFile != "" {
				k, err := audit.ReadChainKey(chainKeyFile)
				if err != nil {
					return errdefs.Invalidf("--chain-key: %w; pass the server's DATA/audit/chain.key", err)
				}
				opts.ChainKey = k
			}
			if file != "" {
				return verifyFile(env, g, file, opts)
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if pub != nil || opts.Checkpoints != nil || opts.ChainKey != nil {
				// Check the server's chain here, against keys and checkpoints
				// the caller trusts.
				var buf bytes.Buffer
				if err := c.AuditExport(cmd.Context(), &buf); err != nil {
					return err
				}
				res, err := audit.VerifyFile(&buf, opts)
				return reportVerify(env, g, res, err)
			}
			v, err := c.AuditVerify(cmd.Context())
			if err != nil {
				return err
			}
			return printVerify(env, g, v)
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "verify this export offline (JSON lines from `dockyard audit export`)")
	cmd.Flags().StringVar(&keyFile, "key", "", "the server's audit public key (PEM from `dockyard audit key`)")
	cmd.Flags().StringVar(&cpFile, "checkpoints", "", "the server's external checkpoints file (DATA/audit/checkpoints.jsonl) to check the chain against")
	cmd.Flags().StringVar(&chainKeyFile, "chain-key", "", "the server's chain key (DATA/audit/chain.key): check every link's MAC too")
	return cmd
}

// verifyFailed is the error of a broken chain: its message names the first
// bad event.
func verifyFailed(msg string) error { return fmt.Errorf("%s", msg) }

// verifyFile checks an export offline; it never contacts the server.
func verifyFile(env *Env, g *globals, file string, opts audit.FileOptions) error {
	f, err := os.Open(file)
	if err != nil {
		return errdefs.Invalidf("--file: %w; pass a file written by `dockyard audit export --file FILE`", err)
	}
	defer f.Close()
	res, verr := audit.VerifyFile(f, opts)
	if verr == nil && res.KeyFromFile {
		fmt.Fprintf(env.Stderr, "warning: no --key given, so %s was checked with the public key inside it: "+
			"that proves only that the file is consistent with itself, not that the server signed it; "+
			"pass --key with the PEM from `dockyard audit key`, kept apart from the exports\n", file)
	}
	return reportVerify(env, g, res, verr)
}

// reportVerify prints a local verification's outcome like the server's.
func reportVerify(env *Env, g *globals, res audit.Result, err error) error {
	if err == nil && res.ExternalAhead > 0 {
		fmt.Fprintf(env.Stderr, "note: the checkpoints file goes on to seq %d but this chain ends at seq %d: "+
			"it is older than the file, or was cut back to an earlier checkpoint; export again to check the whole chain\n", res.ExternalAhead, res.Events)
	}
	v := wire.AuditVerify{OK: err == nil, Events: res.Events, Checkpoints: res.Checkpoints, Message: res.String()}
	var ve *audit.VerifyError
	if errors.As(err, &ve) {
		v.Seq, v.Reason, v.Message = ve.Seq, ve.Reason, ve.Error()
	} else if err != nil {
		return err
	}
	return printVerify(env, g, v)
}

// printVerify prints a verification's outcome: the object with -o json or
// yaml, else the message when the chain is intact; a broken chain is an error.
func printVerify(env *Env, g *globals, v wire.AuditVerify) error {
	if g.structured() {
		if err := env.print(g, v, nil); err != nil {
			return err
		}
	} else if v.OK {
		fmt.Fprintln(env.Stdout, v.Message)
	}
	if !v.OK {
		return verifyFailed(v.Message)
	}
	return nil
}

func newAuditExportCmd(env *Env, g *globals) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "export --file FILE",
		Short: "Write the audit chain with its signed checkpoints as JSON lines (--file - for standard output)",
		Args:  cobra.NoArgs,
		RunE: env.withClient(g, func(cmd *cobra.Command, _ []string, c *client.Client) error {
			if file == "" {
				return usagef("audit export needs --file FILE (or --file - for standard output)")
			}
			if file == "-" {
				return c.AuditExport(cmd.Context(), env.Stdout)
			}
			cw := &countWriter{}
			err := writeFileAtomic(file, func(w io.Writer) error {
				cw.w = w
				return c.AuditExport(cmd.Context(), cw)
			}, nil)
			if err != nil {
				return fmt.Errorf("audit export: %w", err)
			}
			fmt.Fprintf(env.Stderr, "Wrote the audit export to %s (%d lines); check it with `dockyard audit verify --file %s --key PUB.pem`.\n",
				file, cw.lines, file)
			if g.structured() {
				return env.print(g, map[string]any{"file": file, "lines": cw.lines}, nil)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&file, "file", "", "the file to write (- for standard output)")
	return cmd
}

// countWriter counts the lines written through it.
type countWriter struct {
	w     io.Writer
	lines int
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte{'\n'})
	return c.w.Write(p)
}

func newAuditKeyCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "key",
		Short: "Print the server's audit public key (PEM) that verifies exports offline",
		Args:  cobra.NoArgs,
		RunE: env.withClient(g, func(cmd *cobra.Command, _ []string, c *client.Client) error {
			pem, err := c.AuditKey(cmd.Context())
			if err != nil {
				return err
			}
			pub, err := audit.ParsePublicKey(pem)
			if err != nil {
				return fmt.Errorf("the server's answer is not a public key: %w", err)
			}
			if g.structured() {
				return env.print(g, map[string]string{"key_id": audit.KeyID(pub), "public_key_pem": string(pem)}, nil)
			}
			_, err = env.Stdout.Write(pem)
			return err
		}),
	}
}
