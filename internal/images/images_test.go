package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/store"
)

func TestList(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "agent")
	body := []byte("#!/bin/sh\necho agent\n")
	if err := os.WriteFile(exe, body, 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	want := "sha256:" + hex.EncodeToString(sum[:])
	c := New(Options{
		DefaultImage: "dockyard/process", DefaultRuntime: "process", ProcessExecutable: exe,
		Containers: func(context.Context) ([]store.Container, error) {
			return []store.Container{
				{Name: "a", Image: "dockyard/process", Runtime: "process"},
				{Name: "b", Image: "dockyard/process", Runtime: "process"},
				{Name: "ext", Image: "golden-cpu:5.2", Runtime: "external"},
			}, nil
		},
	})
	list, err := c.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("images: %+v", list)
	}
	ext, proc := list[0], list[1]
	if ext.Name != "golden-cpu:5.2" || ext.Containers != 1 || ext.Default || ext.Digest != "" {
		t.Errorf("external image: %+v", ext)
	}
	if proc.Name != "dockyard/process" || proc.Containers != 2 || !proc.Default || proc.Digest != want {
		t.Errorf("process image: %+v, want digest %s", proc, want)
	}
}

func TestMissingExecutable(t *testing.T) {
	c := New(Options{DefaultImage: "dockyard/process", DefaultRuntime: "process", ProcessExecutable: "/nonexistent/agent"})
	if _, err := c.ProcessDigest(); err == nil {
		t.Fatal("digest of a missing executable: no error")
	}
	list, err := c.List(context.Background())
	if err != nil || len(list) != 1 || list[0].Digest != "" {
		t.Fatalf("list without executable: %+v %v", list, err)
	}
}

type fakeDigester map[string]string

func (f fakeDigester) ImageDigest(_ context.Context, image string) (string, error) {
	d, ok := f[image]
	if !ok {
		return "", errors.New("no such image")
	}
	return d, nil
}

func TestDigestersOfOtherRuntimes(t *testing.T) {
	c := New(Options{DefaultImage: "golden-cpu", DefaultRuntime: "docker",
		Digesters: map[string]runtime.ImageDigester{"docker": fakeDigester{"golden-cpu": "sha256:abc"}}})
	if d := c.Digest("docker", "golden-cpu"); d != "sha256:abc" {
		t.Errorf("docker digest = %q", d)
	}
	if d := c.Digest("docker", "missing"); d != "" {
		t.Errorf("missing image digest = %q, want empty", d)
	}
	if d := c.Digest("external", "golden-cpu"); d != "" {
		t.Errorf("runtime without digester = %q, want empty", d)
	}
}
