package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Validate checks every value and returns an error of kind
// errdefs.ErrInvalid naming the first bad key, for example
// `config key "auth.session_ttl": must be positive`.
func (c Config) Validate() error {
	checks := []struct {
		key string
		err string
	}{
		{"data", nonEmpty(c.Data)},
		{"addr", hostPort(c.Addr)},
		{"tls.cert_file", pair(c.TLS.CertFile, c.TLS.KeyFile, "tls.key_file")},
		{"tls.key_file", pair(c.TLS.KeyFile, c.TLS.CertFile, "tls.cert_file")},
		{"tls.server_cert_ttl", atLeast(c.TLS.ServerCertTTL, 31*24*time.Hour,
			"must be at least 744h (31 days): certificates within 30 days of expiry are renewed at every start")},
		{"log.level", oneOf(c.Log.Level, "debug", "info", "warn", "error")},
		{"log.format", oneOf(c.Log.Format, "text", "json")},
		{"auth.session_ttl", positive(c.Auth.SessionTTL)},
		{"auth.api_token_max_ttl", positive(c.Auth.APITokenMaxTTL)},
		{"auth.login_failures_before_delay", notNegative(int64(c.Auth.LoginFailuresBeforeDelay))},
		{"auth.login_delay_max", positive(c.Auth.LoginDelayMax)},
		{"auth.login_delay_base", positive(c.Auth.LoginDelayBase)},
		{"auth.login_window", positive(c.Auth.LoginWindow)},
		{"audit.checkpoint_interval", positive(c.Audit.CheckpointInterval)},
		{"audit.checkpoint_hec_url", hecURL(c.Audit.CheckpointHECURL)},
		{"audit.checkpoint_hec_token", pairToken(c.Audit.CheckpointHECToken, c.Audit.CheckpointHECURL)},
		{"audit.max_text_bytes", positiveInt(int64(c.Audit.MaxTextBytes))},
		{"hec.max_body_bytes", positiveInt(c.HEC.MaxBodyBytes)},
		{"hec.ack_max_ids", positiveInt(int64(c.HEC.AckMaxIDs))},
		{"hec.ack_channel_idle", positive(c.HEC.AckChannelIdle)},
		{"lookups.max_bytes", positiveInt(c.Lookups.MaxBytes)},
		{"containers.stop_grace", positive(c.Containers.StopGrace)},
		{"containers.start_timeout", positive(c.Containers.StartTimeout)},
		{"containers.sync_interval", notNegative(int64(c.Containers.SyncInterval))},
		{"containers.sync_watch_scan", notNegative(int64(c.Containers.SyncWatchScan))},
		{"containers.final_sync_timeout", positive(c.Containers.FinalSyncTimeout)},
		{"containers.reconcile_interval", notNegative(int64(c.Containers.ReconcileInterval))},
		{"containers.idle_timeout", notNegative(int64(c.Containers.IdleTimeout))},
		{"containers.agent_cert_ttl", positive(c.Containers.AgentCertTTL)},
		{"models.page_size", positiveInt(int64(c.Models.PageSize))},
		{"models.max_page_size", positiveInt(int64(c.Models.MaxPageSize))},
		{"models.max_import_bytes", positiveInt(c.Models.MaxImportBytes)},
		{"search.max_rows", positiveInt(c.Search.MaxRows)},
		{"search.max_time", positive(c.Search.MaxTime)},
		{"search.max_memory", positiveInt(c.Search.MaxMemory)},
		{"search.subsearch_max_rows", positiveInt(c.Search.SubsearchMaxRows)},
		{"search.subsearch_max_time", positive(c.Search.SubsearchMaxTime)},
		{"models.keep_versions", notNegative(int64(c.Models.KeepVersions))},
		{"containers.runtime", oneOf(c.Containers.Runtime, "process", "docker", "kubernetes")},
		{"containers.python", nonEmpty(c.Containers.Python)},
		{"containers.default_image", nonEmpty(c.Containers.DefaultImage)},
		{"containers.certs_ca_file", both(c.Containers.CertsCAFile, c.Containers.CertsDir, "containers.certs_dir",
			"the CA bundle that operator certificates must chain to")},
		{"containers.certs_dir", both(c.Containers.CertsDir, c.Containers.CertsCAFile, "containers.certs_ca_file",
			"the directory of the certificates that CA verifies")},
		{"containers.process.sandbox", oneOf(c.Containers.Process.Sandbox, "required", "auto", "off")},
		{"containers.process.bwrap", nonEmpty(c.Containers.Process.Bwrap)},
		{"containers.kubernetes.kubeconfig", kubeCluster(c.Containers.Runtime, c.Containers.Kubernetes)},
		{"containers.kubernetes.run_as_user", notNegative(c.Containers.Kubernetes.RunAsUser)},
		{"containers.kubernetes.server_pod_labels", labelList(c.Containers.Kubernetes.ServerPodLabels)},
		{"containers.kubernetes.gpu_node_selector", labelList(c.Containers.Kubernetes.GPUNodeSelector)},
		{"containers.kubernetes.server_cidrs", cidrList(c.Containers.Kubernetes.ServerCIDRs)},
		{"containers.kubernetes.gpu_tolerations", tolerationList(c.Containers.Kubernetes.GPUTolerations)},
		{"containers.kubernetes.image_pull_policy", oneOf(c.Containers.Kubernetes.ImagePullPolicy, "IfNotPresent", "Always", "Never")},
		{"containers.kubernetes.endpoint", oneOf(c.Containers.Kubernetes.Endpoint, "service", "dns")},
		{"containers.limits.memory_bytes", notNegative(c.Containers.Limits.MemoryBytes)},
		{"containers.limits.max_procs", notNegative(c.Containers.Limits.MaxProcs)},
		{"containers.limits.max_open_files", notNegative(c.Containers.Limits.MaxOpenFiles)},
		{"images.scanner_timeout", positive(c.Images.ScannerTimeout)},
		{"images.max_archive_bytes", positiveInt(c.Images.MaxArchiveBytes)},
		{"containers.gpu.default_quota", atLeastInt(int64(c.Containers.GPU.DefaultQuota), -1, "must be 0 or more, or -1 for no limit")},
		{"containers.gpu.docker_devices", gpuDeviceList(c.Containers.GPU.DockerDevices)},
		{"telemetry.otlp_endpoint", endpoint(c.Telemetry.OTLPEndpoint)},
		{"telemetry.service_name", nonEmpty(c.Telemetry.ServiceName)},
		{"storage.gc_interval", notNegative(int64(c.Storage.GCInterval))},
		{"storage.gc_grace", notNegative(int64(c.Storage.GCGrace))},
	}
	for _, ch := range checks {
		if ch.err != "" {
			return errdefs.Invalidf("config key %q: %s (set it in the config file or with %s)", ch.key, ch.err, EnvVar(ch.key))
		}
	}
	return nil
}

func nonEmpty(s string) string {
	if s == "" {
		return "must not be empty"
	}
	return ""
}

func positive(d time.Duration) string {
	if d <= 0 {
		return fmt.Sprintf("must be positive, not %s", FormatDuration(d))
	}
	return ""
}

func atLeast(d, min time.Duration, msg string) string {
	if d < min {
		return msg + ", not " + FormatDuration(d)
	}
	return ""
}

func positiveInt(n int64) string {
	if n <= 0 {
		return fmt.Sprintf("must be positive, not %d", n)
	}
	return ""
}

func notNegative(n int64) string {
	if n < 0 {
		return fmt.Sprintf("must not be negative, not %d", n)
	}
	return ""
}

func oneOf(s string, allowed ...string) string {
	if !slices.Contains(allowed, s) {
		return fmt.Sprintf("%q is not one of %v", s, allowed)
	}
	return ""
}

func pair(s, other, otherKey string) string {
	if s == "" && other != "" {
		return fmt.Sprintf("must be set when %s is (give both the certificate and its key, or neither)", otherKey)
	}
	return ""
}

func hostPort(s string) string {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("%q is not HOST:PORT (for example 127.0.0.1:8089, or :8089 for every interface)", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("%q has no valid port number (0-65535)", s)
	}
	return ""
}

func endpoint(s string) string {
	if s == "" {
		return ""
	}
	if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return ""
	}
	if hostPort(s) == "" {
		return ""
	}
	return fmt.Sprintf("%q is neither HOST:PORT nor an http(s) URL", s)
}

// hecURL checks an HTTP Event Collector endpoint: an http(s) URL or empty.
func hecURL(s string) string {
	if s == "" {
		return ""
	}
	if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return ""
	}
	return fmt.Sprintf("%q is not an http(s) URL (for example https://hec.example:8088/services/collector/event)", s)
}

// pairToken requires a HEC token whenever its URL is set.
// both: s must be set (as what) when other, set with otherKey, is.
func both(s, other, otherKey, what string) string {
	if s == "" && other != "" {
		return fmt.Sprintf("must be set when %s is: %s", otherKey, what)
	}
	return ""
}

func pairToken(token, url string) string {
	if url != "" && token == "" {
		return "must be set when audit.checkpoint_hec_url is (the HEC token that may write there)"
	}
	return ""
}

func atLeastInt(n, min int64, msg string) string {
	if n < min {
		return fmt.Sprintf("%s, not %d", msg, n)
	}
	return ""
}
