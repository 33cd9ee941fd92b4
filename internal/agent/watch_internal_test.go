package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func feedDirs(t *testing.T) (nb, model string) {
	root := t.TempDir()
	nb, model = filepath.Join(root, NotebooksDir), filepath.Join(root, ModelDir)
	for _, d := range []string{nb, filepath.Join(root, DataDir), model} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return nb, model
}

func waitSeq(t *testing.T, f *changeFeed, after uint64, what string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seq, _ := f.wait(ctx, after)
	if seq <= after {
		t.Fatalf("%s: the change feed stayed at %d", what, seq)
	}
	return seq
}

// TestChangeFeedWatches: a new agent's feed is at 1 (a server that saw
// nothing of this process syncs at once); a notebook written, and a model
// file in a directory made after the watch began, each move it on.
func TestChangeFeedWatches(t *testing.T) {
	nb, model := feedDirs(t)
	f := newChangeFeed(nb, model, 50*time.Millisecond, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.run(ctx, discardWarn{})
	seq := waitSeq(t, f, 0, "start")
	if seq != 1 {
		t.Fatalf("a new feed is at %d, want 1", seq)
	}
	// The watch is set up in run's goroutine; write until it is seen (the
	// rescans are an hour apart, so only fsnotify can see these).
	seq = waitAfterWrites(t, f, seq, filepath.Join(nb, "a.py"))
	sub := filepath.Join(model, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	seq = waitSeq(t, f, seq, "model subdirectory made")
	waitAfterWrites(t, f, seq, filepath.Join(sub, "weights.bin"))
}

// waitAfterWrites writes file until the feed passes seq.
func waitAfterWrites(t *testing.T, f *changeFeed, seq uint64, file string) uint64 {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		if err := os.WriteFile(file, []byte{byte(i)}, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		got, _ := f.wait(ctx, seq)
		cancel()
		if got > seq {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("writing %s never moved the change feed", file)
		}
	}
}

// TestChangeFeedRescan: a change no event reported (no watcher here) is
// found by the rescan; notebooks/data and .dockyard are not scanned.
func TestChangeFeedRescan(t *testing.T) {
	nb, model := feedDirs(t)
	f := newChangeFeed(nb, model, 10*time.Millisecond, time.Hour)
	if err := os.WriteFile(filepath.Join(nb, "data", "big.csv"), []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if snap := f.snapshot(); len(snap) != 0 {
		t.Fatalf("staged data is watched: %v", snap)
	}
	f.rescan()
	if f.isPending() {
		t.Fatal("a change under notebooks/data counted")
	}
	if err := os.WriteFile(filepath.Join(nb, "missed.ipynb"), []byte(`{"cells": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	f.rescan()
	waitSeq(t, f, 1, "rescan after a missed event")
	// An fsnotify event since the last rescan already counted the change.
	if err := os.WriteFile(filepath.Join(nb, "seen.py"), []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.evented = true
	f.mu.Unlock()
	f.rescan()
	if f.isPending() {
		t.Fatal("a rescan counted a change an event had already counted")
	}
}

type discardWarn struct{}

func (discardWarn) Warn(string, ...any) {}

func (f *changeFeed) isPending() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pending
}
