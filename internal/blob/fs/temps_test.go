package fs_test

import (
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	blobfs "github.com/dockyard/dockyard/internal/blob/fs"
)

// tempFiles lists the files under root/tmp other than the stores' lock
// files.
func tempFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(root, "tmp"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() != ".lock" {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHelperProcessPut is not a test: TestCrashedPutTempRemovedAtStart runs
// it in a child process, which opens the store named by the environment,
// starts a Put that never ends, says so, and waits to be killed.
func TestHelperProcessPut(t *testing.T) {
	root := os.Getenv("DOCKYARD_TEST_BLOB_ROOT")
	if root == "" {
		t.Skip("helper process for TestCrashedPutTempRemovedAtStart")
	}
	s, err := blobfs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	go s.Put(context.Background(), pr)
	if _, err := pw.Write([]byte(strings.Repeat("partial upload ", 1000))); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("writing\n")
	time.Sleep(time.Hour) // until killed
}

// TestCrashedPutTempRemovedAtStart kills a process in the middle of a Put
// and checks that the next store opened on the root removes its partial
// temporary file, while the temporary directory of a store still alive in
// another process is left alone.
func TestCrashedPutTempRemovedAtStart(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("advisory locks tell live stores from dead ones only on unix")
	}
	root := t.TempDir()
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcessPut$", "-test.v")
		cmd.Env = append(os.Environ(), "DOCKYARD_TEST_BLOB_ROOT="+root)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		buf := make([]byte, 0, 4096)
		deadline := time.Now().Add(2 * time.Minute)
		for !strings.Contains(string(buf), "writing\n") {
			if time.Now().After(deadline) {
				t.Fatalf("helper process did not start writing; said %q", buf)
			}
			tmp := make([]byte, 512)
			n, err := out.Read(tmp)
			buf = append(buf, tmp[:n]...)
			if err != nil {
				t.Fatalf("helper process: %v; said %q", err, buf)
			}
		}
		return cmd
	}
	if blobfs.InUse(root) {
		t.Fatal("InUse before any store was opened")
	}
	killed := start()
	alive := start()
	if !blobfs.InUse(root) {
		t.Fatal("InUse = false while two processes have the store open")
	}
	// Both partial uploads are on disk (the helper wrote before saying so,
	// though the bytes may still sit in the pipe: wait for the files).
	deadline := time.Now().Add(time.Minute)
	for len(tempFiles(t, root)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("temporary files = %v, want two partial uploads", tempFiles(t, root))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := killed.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed.Wait()

	s, err := blobfs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	left := tempFiles(t, root)
	if len(left) != 1 {
		t.Fatalf("temporary files after restart = %v, want only the live process's upload", left)
	}
	s.Close()
	if !blobfs.InUse(root) {
		t.Fatal("InUse = false while a process has the store open")
	}
	alive.Process.Kill()
	alive.Wait()
	if blobfs.InUse(root) {
		t.Fatal("InUse = true after every store closed or died")
	}
	s2, err := blobfs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if left := tempFiles(t, root); len(left) != 0 {
		t.Fatalf("temporary files after the second process died = %v, want none", left)
	}
}

// TestLooseTempFilesRemovedAtStart: temporaries of older versions, written
// directly in tmp, go at the next start whatever their age.
func TestLooseTempFilesRemovedAtStart(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(root, "tmp", "put-123")
	if err := os.WriteFile(loose, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := blobfs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(loose); !os.IsNotExist(err) {
		t.Fatalf("loose temporary file still there: %v", err)
	}
}
