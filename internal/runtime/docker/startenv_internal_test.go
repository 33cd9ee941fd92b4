package docker

import (
	"archive/tar"
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/errdefs"
)

func TestHECCAFileVariable(t *testing.T) {
	if envHECCAFile != agent.EnvHECCAFile {
		t.Fatalf("envHECCAFile = %q, want agent.EnvHECCAFile %q", envHECCAFile, agent.EnvHECCAFile)
	}
}

func TestHasEnvFileFlag(t *testing.T) {
	r := &Runtime{}
	for _, tc := range []struct {
		cmd  []string
		want bool
	}{
		{r.agentArgs(nil), true},
		{[]string{"agent", "--token-file", "/run/dockyard/token"}, false},
		{[]string{"agent", "--env-file=" + StartEnvFile}, true},
		{[]string{"agent", "--env-file"}, false},
		{[]string{"agent", "--env-file", "/elsewhere"}, false},
	} {
		if got := hasEnvFileFlag(tc.cmd); got != tc.want {
			t.Errorf("hasEnvFileFlag(%q) = %t, want %t", tc.cmd, got, tc.want)
		}
	}
}

// untar returns the archive's files by path with their modes.
func untar(t *testing.T, b []byte) (map[string]string, map[string]int64) {
	t.Helper()
	files, modes := map[string]string{}, map[string]int64{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, modes
		}
		if err != nil {
			t.Fatal(err)
		}
		c, _ := io.ReadAll(tr)
		files[SecretDir+"/"+h.Name], modes[SecretDir+"/"+h.Name] = string(c), h.Mode // extracted at SecretDir
	}
}

func TestStartEnvArchive(t *testing.T) {
	var logs bytes.Buffer
	r := &Runtime{log: slog.New(slog.NewTextHandler(&logs, nil))}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	const secret = "s3cret"
	for _, tc := range []struct {
		name  string
		env   map[string]string
		file  string // StartEnvFile's content; "" with wantErr
		ca    bool   // HECCAFile is in the archive
		isErr func(error) bool
	}{
		{"sorted", map[string]string{"B": "2=two", "A": "1", "E": ""}, "A=1\nB=2=two\nE=\n", false, nil},
		{"ca copied", map[string]string{envHECCAFile: ca, "T": secret}, envHECCAFile + "=" + HECCAFile + "\nT=" + secret + "\n", true, nil},
		{"ca missing", map[string]string{envHECCAFile: "/no/such/ca.pem", "T": "x"}, "T=x\n", false, nil},
		{"newline in value", map[string]string{"T": secret + "\nX=1"}, "", false, errdefs.IsInvalid},
		{"bad name", map[string]string{"A B": "1"}, "", false, errdefs.IsInvalid},
		{"comment name", map[string]string{"#A": "1"}, "", false, errdefs.IsInvalid},
		{"empty name", map[string]string{"": "1"}, "", false, errdefs.IsInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := r.startEnvArchive("c1", tc.env)
			if tc.isErr != nil {
				if !tc.isErr(err) || strings.Contains(err.Error(), secret) {
					t.Fatalf("startEnvArchive = %v, want an error of the right kind without the value", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			files, modes := untar(t, b)
			if files[StartEnvFile] != tc.file || modes[StartEnvFile] != 0o600 {
				t.Errorf("%s = %q (mode %o), want %q (0600)", StartEnvFile, files[StartEnvFile], modes[StartEnvFile], tc.file)
			}
			if _, ok := files[HECCAFile]; ok != tc.ca || ok && files[HECCAFile] != "PEM" {
				t.Errorf("%s in the archive: %t (%q), want %t", HECCAFile, ok, files[HECCAFile], tc.ca)
			}
		})
	}
	if !strings.Contains(logs.String(), "HEC CA file cannot be copied") {
		t.Errorf("a missing CA file is not logged:\n%s", logs.String())
	}
}
