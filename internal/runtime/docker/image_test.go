package docker_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// The test image holds a statically linked dockyard binary FROM scratch.
// It is built once per package run and deleted, with every container the
// tests made, when the run ends (TestMain).

const (
	labelTestRun = "dockyard.test-run" // on every test container and the test image
	imageRepo    = "dockyard-test-agent"
)

var (
	runID = fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())

	dockerOnce sync.Once
	dockerCli  *client.Client
	dockerSkip string // why the tests skip

	imageOnce sync.Once
	imageRef  string
	imageErr  error
	imageMade bool // this run built it (and deletes it)
)

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupRun()
	os.Exit(code)
}

// daemon returns a client for the daemon, skipping t when it cannot be used.
func daemon(t testing.TB) *client.Client {
	t.Helper()
	dockerOnce.Do(func() {
		cli, err := client.New(client.FromEnv)
		if err != nil {
			dockerSkip = fmt.Sprintf("no Docker client: %v", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
			dockerSkip = fmt.Sprintf("the Docker daemon at %s is not reachable (not running, or user %d may not open its socket): %v", cli.DaemonHost(), os.Getuid(), err)
			return
		}
		dockerCli = cli
	})
	if dockerCli == nil {
		t.Skip(dockerSkip)
	}
	return dockerCli
}

// testImage builds (once) the image dockyard-test-agent:<binary hash>.
func testImage(t testing.TB) string {
	t.Helper()
	cli := daemon(t)
	imageOnce.Do(func() { imageRef, imageErr = buildImage(cli) })
	if imageErr != nil {
		t.Fatalf("building the test image: %v", imageErr)
	}
	return imageRef
}

func buildImage(cli *client.Client) (string, error) {
	dir, err := os.MkdirTemp("", "dockyard-docker-test")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "dockyard")
	cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", bin, "github.com/dockyard/dockyard/cmd/dockyard")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("CGO_ENABLED=0 go build ./cmd/dockyard: %w\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	ref := imageRepo + ":" + hex.EncodeToString(sum[:6])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	imageMade = true // deleted at the end unless containers of another run use it
	if _, err := cli.ImageInspect(ctx, ref); err == nil {
		return ref, nil // left by a run that is still going, or failed to clean up
	}
	dockerfile := fmt.Sprintf("FROM scratch\nCOPY dockyard /dockyard\nLABEL %s=%s\nENTRYPOINT [\"/dockyard\"]\n", labelTestRun, runID)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		b    []byte
		mode int64
	}{{"Dockerfile", []byte(dockerfile), 0o644}, {"dockyard", b, 0o755}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.b)), ModTime: time.Now()}); err != nil {
			return "", err
		}
		if _, err := tw.Write(f.b); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	res, err := cli.ImageBuild(ctx, &buf, client.ImageBuildOptions{Tags: []string{ref}, Remove: true, ForceRemove: true,
		Labels: map[string]string{labelTestRun: runID}})
	if err != nil {
		return "", fmt.Errorf("docker build: %w", err)
	}
	defer res.Body.Close()
	// The build's progress is a stream of JSON messages; an error is one.
	dec := json.NewDecoder(res.Body)
	var log bytes.Buffer
	for {
		var msg struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("docker build output: %w", err)
		}
		if msg.Error != "" {
			return "", fmt.Errorf("docker build: %s\n%s", msg.Error, log.String())
		}
		log.WriteString(msg.Stream)
	}
	if _, err := cli.ImageInspect(ctx, ref); err != nil {
		return "", fmt.Errorf("docker build made no image %s:\n%s", ref, log.String())
	}
	return ref, nil
}

// cleanupRun removes the containers labelled with this run, and the image
// when this run built it.
func cleanupRun() {
	if dockerCli == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := client.Filters{}
	f.Add("label", labelTestRun+"="+runID)
	if res, err := dockerCli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f}); err == nil {
		for _, c := range res.Items {
			_, _ = dockerCli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		}
	}
	if !imageMade {
		return
	}
	// The image this run built (by label: a concurrent run may have moved
	// the tag), else the one it reused. One that containers of another
	// run still use stays; that run removes it.
	ids := []string{imageRef}
	if res, err := dockerCli.ImageList(ctx, client.ImageListOptions{Filters: f}); err == nil {
		for _, im := range res.Items {
			ids = append(ids, im.ID)
		}
	}
	for _, id := range ids {
		if _, err := dockerCli.ImageRemove(ctx, id, client.ImageRemoveOptions{PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			fmt.Fprintf(os.Stderr, "removing the test image %s: %v\n", id, err)
		}
	}
}
