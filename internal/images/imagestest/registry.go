// Package imagestest runs registries for tests: go-containerregistry's
// in-process registry, plain or behind TLS and basic auth, and pushes
// random images to them. Nothing is pulled from any public registry.
package imagestest

import (
	"archive/tar"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Registry is an in-process registry on loopback.
type Registry struct {
	Host     string // 127.0.0.1:PORT
	CAPEM    string // the CA that verifies it ("" for plain HTTP)
	User     string // "" when it asks for no credentials
	Password string
	srv      *httptest.Server
}

// Plain starts a registry over plain HTTP without authentication.
func Plain(t testing.TB) *Registry {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return &Registry{Host: strings.TrimPrefix(srv.URL, "http://"), srv: srv}
}

// Private starts a registry behind TLS (a self-signed certificate for
// 127.0.0.1, CAPEM) and basic auth (user, password).
func Private(t testing.TB, user, password string) *Registry {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are what some tests test
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return &Registry{Host: strings.TrimPrefix(srv.URL, "https://"), CAPEM: string(ca), User: user, Password: password, srv: srv}
}

// External is a registry run outside the test (.ci/registry.sh): its
// host, CA and credentials.
func External(host, caPEM, user, password string) *Registry {
	return &Registry{Host: host, CAPEM: caPEM, User: user, Password: password}
}

// Push pushes a new random image to HOST/repoTag and returns its digest.
func (r *Registry) Push(t testing.TB, repoTag string) string {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	return r.PushImage(t, repoTag, img)
}

// PushImage pushes img to HOST/repoTag and returns its digest.
func (r *Registry) PushImage(t testing.TB, repoTag string, img v1.Image) string {
	t.Helper()
	ref, err := name.ParseReference(r.Host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	var tr http.RoundTripper = http.DefaultTransport
	switch {
	case r.srv != nil:
		tr = r.srv.Client().Transport
	case r.CAPEM != "":
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(r.CAPEM)) {
			t.Fatalf("registry %s: no certificate in its CA", r.Host)
		}
		c := http.DefaultTransport.(*http.Transport).Clone()
		c.TLSClientConfig = &tls.Config{RootCAs: pool}
		tr = c
	}
	opts := []remote.Option{remote.WithTransport(tr)}
	if r.User != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: r.User, Password: r.Password}))
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	// A test whose start passes the image gate has the Docker Engine pull
	// the image: remove what it pulled (nothing where it pulled nothing).
	pulled := ref.Context().Name() + "@" + d.String()
	t.Cleanup(func() {
		if _, err := exec.LookPath("docker"); err == nil {
			_ = exec.Command("docker", "rmi", "--force", pulled).Run()
		}
	})
	return d.String()
}

// AgentImage is an image FROM scratch holding only the statically linked
// dockyard binary at /dockyard, its entrypoint, for linux on this
// machine's architecture; label makes each call's image distinct.
func AgentImage(t testing.TB, binary, label string) v1.Image {
	t.Helper()
	b, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "dockyard", Mode: 0o755, Size: int64(len(b)), ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", goruntime.GOARCH
	cfg.Config.Entrypoint = []string{"/dockyard"}
	cfg.Config.Labels = map[string]string{"dockyard.test": label}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// StaticDockyard builds the dockyard binary statically linked (for an
// image FROM scratch) into dir and returns its path.
func StaticDockyard(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "dockyard")
	cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", bin, "github.com/dockyard/dockyard/cmd/dockyard")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build ./cmd/dockyard: %v\n%s", err, out)
	}
	return bin
}
