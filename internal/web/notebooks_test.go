package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

// TestNotebookHistoryAndDiff: the notebook page lists the versions, shows
// a version's code and a line diff of two; the share form is the owner's.
func TestNotebookHistoryAndDiff(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	nina := h.User("nina", access.RoleUser, access.RolePower)
	h.User("otto", access.RoleUser)
	for _, body := range []string{
		"def init(df, param):\n    return {}\n\ndef fit(model, df, param):\n    return 1\n",
		"def init(df, param):\n    return {}\n\ndef fit(model, df, param):\n    return 2\n",
	} {
		if _, err := nina.PushNotebook(ctx, "nb", "py", "app", []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, h)
	b.login("nina", servertest.UserPassword)
	list, _ := b.page("/notebooks")
	if !strings.Contains(list, `data-name="nb"`) {
		t.Fatalf("the notebooks page does not list nb:\n%s", list)
	}
	page, _ := b.page("/notebooks/nb?a=1&b=2")
	for _, want := range []string{`<span class="del">-     return 1</span>`, `<span class="add">+     return 2</span>`, "  def init(df, param):"} {
		if !strings.Contains(page, want) {
			t.Errorf("the diff lacks %q:\n%s", want, page)
		}
	}
	if strings.Count(page, `<tr><td><a href="/notebooks/nb?a=`) != 2 {
		t.Errorf("the history does not list two versions:\n%s", page)
	}
	if !strings.Contains(page, `action="/notebooks/nb/share"`) {
		t.Errorf("the owner sees no share form")
	}
	one, _ := b.page("/notebooks/nb?a=1")
	if !strings.Contains(one, "return 1") || strings.Contains(one, "return 2") {
		t.Errorf("version 1's page does not show version 1's code:\n%s", one)
	}

	o := newBrowser(t, h)
	o.login("otto", servertest.UserPassword)
	page, _ = o.page("/notebooks/nb")
	if strings.Contains(page, `action="/notebooks/nb/share"`) {
		t.Errorf("a reader who does not own the notebook sees the share form")
	}
	if resp, _ := o.get("/notebooks/nb?a=x"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad version number: %d, want 400", resp.StatusCode)
	}
}
