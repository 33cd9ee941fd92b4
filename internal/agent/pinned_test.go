package agent_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/agent/agenttest"
)

// TestPinnedNotebooks: a pinned version is stored only under its own
// SHA-256, runs under the notebook's name (save names unchanged) in place
// of the notebooks directory's file of that name, and is refused when it
// was changed after it was placed or was never placed.
func TestPinnedNotebooks(t *testing.T) {
	a := agenttest.Start(t, agenttest.Options{Python: bare(t)})
	code := func(answer string) []byte {
		return []byte("def init(df, param):\n    return {}\n\ndef fit(m, df, param):\n    return {}\n\n" +
			"def apply(m, df, param):\n    return [{'answer': " + answer + "} for _ in range(len(df))]\n\n" +
			"def summary(model=None):\n    return {'answer': " + answer + "}\n")
	}
	pinned, other := code("1"), code("2")
	sum := sha256.Sum256(pinned)
	sha := hex.EncodeToString(sum[:])
	put := func(name string, body []byte) (int, string) {
		resp := a.Do(t, "PUT", "/v1/pinned/"+name, body, nil)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name string
		body []byte
		msg  string
	}{
		{sha + ".py", other, "not the " + sha},
		{"nb.py", pinned, "64 lowercase hex"},
		{sha + ".txt", pinned, ".ipynb or .py"},
		{sha + ".ipynb", pinned, "not nbformat JSON"},
	} {
		if code, body := put(tc.name, tc.body); code != 400 || !strings.Contains(body, tc.msg) {
			t.Errorf("PUT /v1/pinned/%s = %d %s, want 400 with %q", tc.name, code, body, tc.msg)
		}
	}
	if code, body := put(sha+".py", pinned); code != 200 {
		t.Fatalf("PUT pinned = %d %s", code, body)
	}
	// The notebooks directory's nb.py is other code; the pinned one runs.
	push(t, a, "nb.py", other)
	stream := func(pin string) string {
		hdr, _ := json.Marshal(map[string]any{"meta": meta("nb", "M", nil), "notebook_sha256": pin})
		resp := a.Do(t, "POST", "/v1/apply/stream", append(append(hdr, '\n'), "x1,x2\n1,2\n"...), nil)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := stream(sha); !strings.Contains(got, `answer\n1\n`) {
		t.Errorf("apply of the pinned version = %s, want answer 1", got)
	}
	if got := stream(""); !strings.Contains(got, `answer\n2\n`) {
		t.Errorf("apply of notebooks/nb.py = %s, want answer 2", got)
	}
	q := url.Values{"algo": {"nb"}, "notebook_sha256": {sha}}
	resp := a.Do(t, "GET", "/summary?"+q.Encode(), nil, nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"answer":1`) {
		t.Errorf("summary of the pinned version = %s, want answer 1", b)
	}
	absent := strings.Repeat("a", 64)
	if got := stream(absent); !strings.Contains(got, "is not placed in this container") {
		t.Errorf("apply of a version never placed = %s", got)
	}
	// Changed on disk after it was placed: refused, not run.
	if err := os.WriteFile(filepath.Join(a.Root, ".dockyard", "pinned", sha+".py"), other, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := stream(sha); !strings.Contains(got, "changed after it was placed") || strings.Contains(got, `answer\n2`) {
		t.Errorf("apply of a changed pinned copy = %s, want a refusal", got)
	}
	// The pinned copies are not notebooks of the container.
	resp = a.Do(t, "GET", "/v1/notebooks", nil, nil)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), sha) {
		t.Errorf("GET /v1/notebooks lists a pinned copy: %s", b)
	}
}
