package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newObservabilityCmd, newMetricsCmd) }

// readToken reads one line from stdin (for --token-stdin).
func readToken(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	tok := strings.TrimSpace(line)
	if tok == "" {
		return "", errdefs.Invalid("no token on standard input: pipe it in, e.g. `printf '%s\\n' \"$OTLP_TOKEN\" | dockyard observability set --token-stdin`, or pass --clear-token to remove it")
	}
	return tok, nil
}

func observabilityTable(s wire.ObservabilitySettings) *table {
	t := &table{header: []string{"enabled", "endpoint", "service_name", "token", "token_header", "source", "updated", "updated_by"}}
	tok := "-"
	if s.TokenSet {
		tok = s.TokenLast4
	}
	orDash := func(v string) string {
		if v == "" {
			return "-"
		}
		return v
	}
	t.add(fmt.Sprint(s.Enabled), orDash(s.Endpoint), s.ServiceName, tok, orDash(s.TokenHeader), s.Source, fmtTime(s.Updated), orDash(s.UpdatedBy))
	return t
}

func newObservabilityCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "observability", Short: "Show and change where traces are exported (needs configure_mltk_container)"}
	show := &cobra.Command{
		Use:   "show",
		Short: "Show the trace export settings (the token only by its last four characters)",
		Args:  cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) (wire.ObservabilitySettings, error) {
			return c.Observability(cmd.Context())
		}, observabilityTable),
	}
	var endpoint, header, service string
	var tokenStdin, clearToken, enable, disable bool
	set := &cobra.Command{
		Use:   "set [--endpoint URL] [--token-stdin | --clear-token] [--token-header NAME] [--service-name NAME] [--enable | --disable]",
		Short: "Change the trace export settings; they apply at once",
		Long: "Change the OpenTelemetry trace export settings. Settings not named keep their value.\n" +
			"Giving --endpoint turns export on unless --disable is given. The access token is read\n" +
			"from standard input only, stored encrypted, and never shown again in full.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var u wire.ObservabilityUpdate
			f := cmd.Flags()
			switch {
			case enable && disable:
				return usagef("pass --enable or --disable, not both")
			case tokenStdin && clearToken:
				return usagef("pass --token-stdin or --clear-token, not both")
			case enable:
				u.Enabled = obsBool(true)
			case disable:
				u.Enabled = obsBool(false)
			case f.Changed("endpoint"):
				u.Enabled = obsBool(true)
			}
			if f.Changed("endpoint") {
				u.Endpoint = &endpoint
			}
			if f.Changed("token-header") {
				u.TokenHeader = &header
			}
			if f.Changed("service-name") {
				u.ServiceName = &service
			}
			if clearToken {
				u.Token = new(string)
			}
			if tokenStdin {
				tok, err := readToken(env.Stdin)
				if err != nil {
					return err
				}
				u.Token = &tok
			}
			if u == (wire.ObservabilityUpdate{}) {
				return usagef("nothing to change: pass --endpoint, --token-stdin, --service-name, --enable or --disable (see `dockyard observability set --help`)")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			s, err := c.SetObservability(cmd.Context(), u)
			if err != nil {
				return err
			}
			return env.print(g, s, observabilityTable(s))
		},
	}
	sf := set.Flags()
	sf.StringVar(&endpoint, "endpoint", "", "OTLP/HTTP collector: https://HOST:4318 (path /v1/traces is added when none is given) or HOST:PORT")
	sf.BoolVar(&tokenStdin, "token-stdin", false, "read the collector's access token from standard input")
	sf.BoolVar(&clearToken, "clear-token", false, "remove the access token")
	sf.StringVar(&header, "token-header", "", `header that carries the token (default "Authorization: Bearer TOKEN"; another name sends the bare token)`)
	sf.StringVar(&service, "service-name", "", "service.name reported with every span")
	sf.BoolVar(&enable, "enable", false, "turn trace export on")
	sf.BoolVar(&disable, "disable", false, "turn trace export off (the settings are kept)")
	cmd.AddCommand(show, set)
	return cmd
}

func obsBool(b bool) *bool { return &b }

func newMetricsCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "metrics",
		Short: "Print the server's Prometheus metrics (needs configure_mltk_container)",
		Args:  cobra.NoArgs,
		RunE: env.withClient(g, func(cmd *cobra.Command, _ []string, c *client.Client) error {
			out, err := c.Metrics(cmd.Context())
			if err != nil {
				return err
			}
			_, err = io.WriteString(env.Stdout, out)
			return err
		}),
	}
}
