package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/errdefs"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dockyard.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultValidates(t *testing.T) {
	d := config.Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if d.Data != "./dockyard-data" || d.Addr != "127.0.0.1:8089" || d.Auth.SessionTTL != 12*time.Hour {
		t.Fatalf("unexpected defaults: %+v", d)
	}
	c, err := config.Load("", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c != d {
		t.Fatalf("Load with no layers = %+v, want Default()", c)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, `
data: /from/file
addr: 10.0.0.1:1000
log:
  level: debug
  format: json
auth:
  session_ttl: 1h
  login_failures_before_delay: 3
search:
  max_rows: 1_000
`)
	env := []string{
		"DOCKYARD_ADDR=10.0.0.2:2000",
		"DOCKYARD_LOG_LEVEL=warn",
		"DOCKYARD_AUTH_SESSION_TTL=2h",
		"DOCKYARD_TOKEN=not-a-config-key", // client setting: ignored
		"PATH=/usr/bin",
	}
	flags := map[string]string{"addr": "10.0.0.3:3000", "auth.session_ttl": "3h"}

	c, err := config.Load(file, env, flags)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, want, layer string
	}{
		{"addr", "10.0.0.3:3000", "flag over env over file"},
		{"auth.session_ttl", "3h", "flag over env over file"},
		{"log.level", "warn", "env over file"},
		{"data", "/from/file", "file over default"},
		{"log.format", "json", "file over default"},
		{"auth.login_failures_before_delay", "3", "file over default"},
		{"search.max_rows", "1000", "file over default"},
		{"auth.login_delay_max", "5m", "default"},
		{"containers.runtime", "process", "default"},
	}
	for _, tc := range tests {
		if got, _ := c.Get(tc.key); got != tc.want {
			t.Errorf("%s = %q, want %q (%s)", tc.key, got, tc.want, tc.layer)
		}
	}
}

func TestBadKeysNamed(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     []string
		flags   map[string]string
		wantErr []string
	}{
		{name: "file unknown key", file: "auth:\n  session_ttl: 1h\n  sesion_ttl: 2h\n",
			wantErr: []string{`unknown config key "auth.sesion_ttl"`, "dockyard.yaml", "line 3", "session_ttl"}},
		{name: "file unknown section", file: "serach:\n  max_rows: 1\n",
			wantErr: []string{`unknown config key "serach"`, "line 1", "search"}},
		{name: "file bad duration", file: "search:\n  max_time: soon\n",
			wantErr: []string{`config key "search.max_time"`, "line 2", `"soon" is not a duration`}},
		{name: "file section not a mapping", file: "auth: 12h\n",
			wantErr: []string{`key "auth"`, "mapping"}},
		{name: "file list value", file: "addr: [a, b]\n",
			wantErr: []string{`config key "addr"`, "single value"}},
		{name: "file not yaml", file: "addr: [\n",
			wantErr: []string{"dockyard.yaml"}},
		{name: "env bad value", env: []string{"DOCKYARD_AUTH_SESSION_TTL=twelve hours"},
			wantErr: []string{`config key "auth.session_ttl"`, "DOCKYARD_AUTH_SESSION_TTL", "not a duration"}},
		{name: "env bad integer", env: []string{"DOCKYARD_MODELS_KEEP_VERSIONS=many"},
			wantErr: []string{`config key "models.keep_versions"`, "DOCKYARD_MODELS_KEEP_VERSIONS", "whole number"}},
		{name: "env invalid value", env: []string{"DOCKYARD_LOG_LEVEL=loud"},
			wantErr: []string{`config key "log.level"`, `"loud"`, "DOCKYARD_LOG_LEVEL"}},
		{name: "flag bad value", flags: map[string]string{"addr": "localhost"},
			wantErr: []string{`config key "addr"`, "HOST:PORT"}},
		{name: "flag unknown key", flags: map[string]string{"tls.cert": "x"},
			wantErr: []string{`unknown config key "tls.cert"`, "flag --tls.cert", "tls.cert_file"}},
		{name: "flag negative duration", flags: map[string]string{"auth.session_ttl": "-1h"},
			wantErr: []string{`config key "auth.session_ttl": must be positive`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := ""
			if tc.file != "" {
				file = writeFile(t, tc.file)
			}
			_, err := config.Load(file, tc.env, tc.flags)
			t.Log(err)
			if !errdefs.IsInvalid(err) {
				t.Fatalf("Load error = %v, want ErrInvalid", err)
			}
			for _, sub := range tc.wantErr {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q does not contain %q", err, sub)
				}
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"), nil, nil)
	if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("error = %v", err)
	}
}

func TestEmptyFileAndSection(t *testing.T) {
	for _, content := range []string{"", "# only a comment\n", "auth:\n"} {
		c, err := config.Load(writeFile(t, content), nil, nil)
		if err != nil || c != config.Default() {
			t.Errorf("Load(%q) = %+v, %v; want defaults", content, c, err)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		key    string
		mutate func(*config.Config)
	}{
		{"data", func(c *config.Config) { c.Data = "" }},
		{"addr", func(c *config.Config) { c.Addr = "127.0.0.1" }},
		{"addr", func(c *config.Config) { c.Addr = "127.0.0.1:99999" }},
		{"tls.key_file", func(c *config.Config) { c.TLS.CertFile = "cert.pem" }},
		{"tls.cert_file", func(c *config.Config) { c.TLS.KeyFile = "key.pem" }},
		{"tls.server_cert_ttl", func(c *config.Config) { c.TLS.ServerCertTTL = 24 * time.Hour }},
		{"log.level", func(c *config.Config) { c.Log.Level = "verbose" }},
		{"log.format", func(c *config.Config) { c.Log.Format = "xml" }},
		{"auth.session_ttl", func(c *config.Config) { c.Auth.SessionTTL = 0 }},
		{"auth.api_token_max_ttl", func(c *config.Config) { c.Auth.APITokenMaxTTL = -time.Hour }},
		{"auth.login_failures_before_delay", func(c *config.Config) { c.Auth.LoginFailuresBeforeDelay = -1 }},
		{"auth.login_delay_max", func(c *config.Config) { c.Auth.LoginDelayMax = 0 }},
		{"search.max_rows", func(c *config.Config) { c.Search.MaxRows = 0 }},
		{"search.max_time", func(c *config.Config) { c.Search.MaxTime = 0 }},
		{"models.keep_versions", func(c *config.Config) { c.Models.KeepVersions = -1 }},
		{"containers.runtime", func(c *config.Config) { c.Containers.Runtime = "podman" }},
		{"containers.python", func(c *config.Config) { c.Containers.Python = "" }},
		{"containers.default_image", func(c *config.Config) { c.Containers.DefaultImage = "" }},
		{"containers.process.sandbox", func(c *config.Config) { c.Containers.Process.Sandbox = "maybe" }},
		{"containers.kubernetes.kubeconfig", func(c *config.Config) { c.Containers.Runtime = "kubernetes" }},
		{"containers.kubernetes.run_as_user", func(c *config.Config) { c.Containers.Kubernetes.RunAsUser = -1 }},
		{"containers.kubernetes.server_pod_labels", func(c *config.Config) { c.Containers.Kubernetes.ServerPodLabels = "app=dock yard" }},
		{"containers.kubernetes.gpu_node_selector", func(c *config.Config) { c.Containers.Kubernetes.GPUNodeSelector = "nolabel" }},
		{"containers.kubernetes.server_cidrs", func(c *config.Config) { c.Containers.Kubernetes.ServerCIDRs = "10.0.0.1" }},
		{"containers.kubernetes.gpu_tolerations", func(c *config.Config) { c.Containers.Kubernetes.GPUTolerations = "nvidia.com/gpu:Sometimes" }},
		{"containers.kubernetes.image_pull_policy", func(c *config.Config) { c.Containers.Kubernetes.ImagePullPolicy = "Maybe" }},
		{"containers.kubernetes.endpoint", func(c *config.Config) { c.Containers.Kubernetes.Endpoint = "pod" }},
		{"containers.process.bwrap", func(c *config.Config) { c.Containers.Process.Bwrap = "" }},
		{"containers.limits.memory_bytes", func(c *config.Config) { c.Containers.Limits.MemoryBytes = -1 }},
		{"containers.limits.max_procs", func(c *config.Config) { c.Containers.Limits.MaxProcs = -1 }},
		{"containers.limits.max_open_files", func(c *config.Config) { c.Containers.Limits.MaxOpenFiles = -1 }},
		{"containers.gpu.default_quota", func(c *config.Config) { c.Containers.GPU.DefaultQuota = -2 }},
		{"containers.gpu.docker_devices", func(c *config.Config) { c.Containers.GPU.DockerDevices = "0,,1" }},
		{"containers.gpu.docker_devices", func(c *config.Config) { c.Containers.GPU.DockerDevices = "0,1,0" }},
		{"containers.gpu.docker_devices", func(c *config.Config) { c.Containers.GPU.DockerDevices = "0 1" }},
		{"telemetry.otlp_endpoint", func(c *config.Config) { c.Telemetry.OTLPEndpoint = "collector" }},
		{"telemetry.service_name", func(c *config.Config) { c.Telemetry.ServiceName = "" }},
	}
	for _, tc := range tests {
		c := config.Default()
		tc.mutate(&c)
		err := c.Validate()
		if !errdefs.IsInvalid(err) || !strings.HasPrefix(err.Error(), `config key "`+tc.key+`": `) {
			t.Errorf("%s: Validate() = %v, want an error naming the key", tc.key, err)
		}
	}
	ok := config.Default()
	ok.TLS.CertFile, ok.TLS.KeyFile = "c.pem", "k.pem"
	ok.Addr = ":8089"
	ok.Telemetry.OTLPEndpoint = "https://otel.example.com:4318"
	ok.Containers.GPU.DockerDevices = " 0, 1 ,GPU-8c4e-11aa"
	if got, err := config.ParseGPUDevices(ok.Containers.GPU.DockerDevices); err != nil || strings.Join(got, "|") != "0|1|GPU-8c4e-11aa" {
		t.Errorf("ParseGPUDevices = %q, %v", got, err)
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
}

func TestKeysAndDescribe(t *testing.T) {
	keys := config.Keys()
	for _, want := range []string{"data", "addr", "tls.cert_file", "tls.key_file", "log.level", "auth.session_ttl",
		"auth.api_token_max_ttl", "search.max_rows", "models.keep_versions", "containers.default_image", "telemetry.otlp_endpoint"} {
		if !slices.Contains(keys, want) {
			t.Errorf("Keys() lacks %q: %v", want, keys)
		}
	}
	c := config.Default()
	for _, info := range config.Describe() {
		if info.Doc == "" {
			t.Errorf("key %s has no doc tag", info.Key)
		}
		if info.Env != config.EnvVar(info.Key) {
			t.Errorf("key %s env %s", info.Key, info.Env)
		}
		// Every default round-trips through Set.
		if err := c.Set(info.Key, info.Default); err != nil {
			t.Errorf("Set(%s, %q): %v", info.Key, info.Default, err)
		}
	}
	if c != config.Default() {
		t.Errorf("setting every default changed the config: %+v", c)
	}
	if got := config.EnvVar("auth.session_ttl"); got != "DOCKYARD_AUTH_SESSION_TTL" {
		t.Errorf("EnvVar = %s", got)
	}
}

// TestDocsListEveryKey keeps docs/configuration.md in step with Config.
func TestDocsListEveryKey(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatalf("docs/configuration.md must document every key: %v", err)
	}
	for _, info := range config.Describe() {
		for _, s := range []string{"`" + info.Key + "`", "`" + info.Env + "`", "`" + info.Default + "`"} {
			if s == "``" {
				continue
			}
			if !strings.Contains(string(doc), s) {
				t.Errorf("docs/configuration.md does not mention %s", s)
			}
		}
	}
}
