package web_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

// linearCSV is a table of x and y = a*x + b for x = 1..n.
func linearCSV(a, b float64, n int) string {
	var sb strings.Builder
	sb.WriteString("x,y\n")
	for x := 1; x <= n; x++ {
		fmt.Fprintf(&sb, "%d,%g\n", x, a*float64(x)+b)
	}
	return sb.String()
}

// fitSetup gives a data scientist the example notebook and two tables.
func fitSetup(t *testing.T, h *servertest.Harness) *client.Client {
	t.Helper()
	ctx := context.Background()
	alice := h.User("alice", access.RoleContainerUser, access.RolePower)
	nb, err := os.ReadFile("../../examples/notebooks/linear_regression.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.PushNotebook(ctx, "linreg", "ipynb", "", nb); err != nil {
		t.Fatalf("push notebook: %v", err)
	}
	for name, body := range map[string]string{"d1.csv": linearCSV(2, 1, 20), "d2.csv": linearCSV(3, -1, 30)} {
		if _, err := alice.UploadLookup(ctx, name, strings.NewReader(body)); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}
	}
	return alice
}

// TestBrowserFitRollbackStop drives the console in Chromium as a data
// scientist: log in, fit twice from the search page, see the new version
// and its metric plot on the model page, roll back, and stop the fit's
// container from the dashboard. Every check reads the DOM.
func TestBrowserFitRollbackStop(t *testing.T) {
	needPython(t)
	h := servertest.Start(t)
	alice := fitSetup(t, h)
	ctx := chrome(t, h, 5*time.Minute)
	base := h.Srv.URL()

	browserLogin(t, ctx, base, "alice", servertest.UserPassword)
	browserSearch(t, ctx, base, "| inputlookup d1.csv | fit MLTKContainer algo=linreg y from x into app:WebModel")
	if n := count(t, ctx, "#results tr.result"); n != 20 {
		t.Errorf("the fit's results table has %d rows, want 20", n)
	}

	do(t, ctx, "open the models page", chromedp.Navigate(base+"/models"), chromedp.WaitVisible(chromedp.CSS("#models")))
	if n := count(t, ctx, `#models tr.model[data-name="WebModel"]`); n != 1 {
		t.Fatalf("the models page lists WebModel %d times, want once", n)
	}
	do(t, ctx, "open the model page", chromedp.Click(chromedp.CSS(`#models tr.model[data-name="WebModel"] a`)),
		chromedp.WaitVisible(chromedp.CSS("#current-version")))
	if got := text(t, ctx, "#current-version"); got != "1" {
		t.Errorf("current version after the first fit = %q, want 1", got)
	}
	if n := count(t, ctx, `#versions tr.version[data-version="1"]`); n != 1 {
		t.Errorf("version 1 is not in the versions table")
	}
	if n := count(t, ctx, `figure.plot[data-metric="rows_used"] svg circle.point`); n != 1 {
		t.Errorf("the rows_used plot has %d points, want 1", n)
	}

	browserSearch(t, ctx, base, "| inputlookup d2.csv | fit MLTKContainer algo=linreg y from x into app:WebModel")
	do(t, ctx, "open the model page again", chromedp.Navigate(base+"/models/app:WebModel"), chromedp.WaitVisible(chromedp.CSS("#current-version")))
	if got := text(t, ctx, "#current-version"); got != "2" {
		t.Errorf("current version after the second fit = %q, want 2", got)
	}
	if n := count(t, ctx, `figure.plot[data-metric="rows_used"] svg circle.point`); n != 2 {
		t.Errorf("the rows_used plot has %d points after two fits, want 2", n)
	}
	if n := count(t, ctx, "#rollback"); n != 1 {
		t.Fatalf("the owner sees no rollback button")
	}
	do(t, ctx, "roll back", chromedp.SetValue(chromedp.CSS("#rb-reason"), "the second fit is worse"),
		chromedp.Click(chromedp.CSS("#rollback")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got := text(t, ctx, "#current-version"); got != "1" {
		t.Errorf("current version after the rollback = %q, want 1", got)
	}
	if s, err := alice.Model(context.Background(), "app:WebModel"); err != nil || s.Version != 1 {
		t.Errorf("the API says current is %d (%v) after the rollback, want 1", s.Version, err)
	}
	if hist := text(t, ctx, "#history"); !strings.Contains(hist, "the second fit is worse") {
		t.Errorf("the alias history lacks the rollback's reason: %q", hist)
	}

	do(t, ctx, "open the dashboard", chromedp.Navigate(base+"/containers"), chromedp.WaitVisible(chromedp.CSS("#containers")))
	running := `#containers tr.container[data-status="running"]`
	if n := count(t, ctx, running); n < 1 {
		t.Fatalf("no running container on the dashboard after the fits:\n%s", text(t, ctx, "#containers"))
	}
	name, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(running), "data-name"))
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, ctx, running+" a.jupyter"); n != 1 {
		t.Errorf("the owner's running container has no Open Jupyter link")
	} else {
		href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(running+" a.jupyter"), "href"))
		want := "/jupyter/alice/" + strings.TrimPrefix(name.Value, "alice/") + "/"
		if err != nil || href.Value != want {
			t.Errorf("Open Jupyter points at %q (%v), want %q", href.Value, err, want)
		}
	}
	row := fmt.Sprintf(`#containers tr.container[data-name=%q]`, name.Value)
	do(t, ctx, "stop the container", chromedp.Click(chromedp.CSS(row+" button.stop")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	st, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(row), "data-status"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Value == "running" {
		t.Errorf("container %s is still running after Stop", name.Value)
	}
	if n := count(t, ctx, row+" button.start"); n != 1 {
		t.Errorf("the stopped container offers no Start button")
	}
}
