package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

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
