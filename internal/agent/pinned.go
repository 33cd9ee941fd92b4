package agent

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Pinned notebooks are exact notebook versions the server places to run a
// job with (a fit, or the apply and summary of a model version, which run
// the version that trained it). They are kept apart from the notebooks
// directory, under .dockyard/pinned/, named by the SHA-256 of their
// content: two versions can never collide, the same version placed twice
// is the same file, so concurrent jobs need no coordination, and the
// notebook sync (which reads only notebooks/) never takes them for the
// user's work. The runner checks the SHA-256 again just before it runs
// the file, so a copy changed in the container is refused, not run.
const pinnedDir = stateDir + "/pinned"

// validSHA256 checks a lowercase hex SHA-256.
func validSHA256(what, s string) error {
	if len(s) != 64 || strings.ToLower(s) != s {
		return errdefs.Invalidf("%s %q: want 64 lowercase hex digits", what, s)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return errdefs.Invalidf("%s %q: want 64 lowercase hex digits", what, s)
	}
	return nil
}

// pinnedName checks NAME of PUT /v1/pinned/NAME: <sha256>.ipynb or
// <sha256>.py.
func pinnedName(name string) (sha string, err error) {
	ext := filepath.Ext(name)
	if ext != ".ipynb" && ext != ".py" {
		return "", errdefs.Invalidf("pinned notebook %q: the name is the content's SHA-256 followed by .ipynb or .py", name)
	}
	sha = strings.TrimSuffix(name, ext)
	if err := validSHA256("pinned notebook "+name, sha); err != nil {
		return "", err
	}
	return sha, nil
}

// handlePinnedPut stores a pinned notebook; its content must hash to the
// name's SHA-256, or nothing is stored.
func (a *Agent) handlePinnedPut(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	sha, err := pinnedName(name)
	if err != nil {
		writeError(w, err)
		return
	}
	body, err := readNotebookBody(w, r, "pinned notebook", name)
	if err != nil {
		writeError(w, err)
		return
	}
	dir := filepath.Join(a.root, filepath.FromSlash(pinnedDir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		writeError(w, fmt.Errorf("creating %s: %w", pinnedDir, err))
		return
	}
	fi, err := a.putFile(dir, name, strings.NewReader(string(body)), sha)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, fi)
}

// pinnedFile returns the path of the pinned notebook with SHA-256 sha; a
// job naming a version that was not placed fails.
func (a *Agent) pinnedFile(sha string) (string, error) {
	if err := validSHA256("notebook_sha256", sha); err != nil {
		return "", err
	}
	dir := filepath.Join(a.root, filepath.FromSlash(pinnedDir))
	for _, ext := range []string{".ipynb", ".py"} {
		p := filepath.Join(dir, sha+ext)
		if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", errdefs.NotFoundf("notebook version sha256:%s is not placed in this container: PUT it to /v1/pinned/%s.ipynb (or .py) first", sha, sha)
}
