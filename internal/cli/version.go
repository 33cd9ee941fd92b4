package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/spf13/cobra"
)

// versionInfo is what `dockyard version` prints: where the binary was built
// from, as the Go toolchain recorded it.
type versionInfo struct {
	Version  string `json:"version"`            // module version, "devel" for a build from a checkout
	Revision string `json:"revision,omitempty"` // VCS commit
	Time     string `json:"time,omitempty"`     // commit time
	Dirty    bool   `json:"dirty"`              // built with uncommitted changes
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// buildVersion reads the version from the binary's build information.
func buildVersion() versionInfo { return versionOf(debug.ReadBuildInfo()) }

// versionOf is the version that build information bi records.
func versionOf(bi *debug.BuildInfo, ok bool) versionInfo {
	v := versionInfo{Version: "devel", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if !ok || bi == nil {
		return v
	}
	if mv := bi.Main.Version; mv != "" && mv != "(devel)" {
		v.Version = mv
	}
	if bi.GoVersion != "" {
		v.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Dirty, _ = strconv.ParseBool(s.Value)
		}
	}
	return v
}

// String is the one line of `dockyard --version`.
func (v versionInfo) String() string {
	s := "dockyard " + v.Version
	if v.Revision != "" {
		rev := v.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += " (" + rev
		if v.Dirty {
			s += ", dirty"
		}
		s += ")"
	}
	return s + " " + v.Go + " " + v.Platform
}

func newVersionCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision and Go version this binary was built from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := buildVersion()
			t := &table{header: []string{"field", "value"}}
			t.add("version", v.Version)
			t.add("revision", dash(v.Revision))
			t.add("time", dash(v.Time))
			t.add("dirty", fmt.Sprint(v.Dirty))
			t.add("go", v.Go)
			t.add("platform", v.Platform)
			return env.print(g, v, t)
		},
	}
}
