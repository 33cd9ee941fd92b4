package web_test

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockyard/dockyard/internal/server/servertest"
)

var updateScreens = flag.Bool("update-screens", false, "write a screenshot of each main page to docs/screens/")

// screensDir is where the screenshots go, for a person to look at (the
// README shows one).
const screensDir = "../../docs/screens"

// TestScreens opens each main page in Chromium with sample data (two fits
// when python3 is there, so the model page has its metric plots) and
// takes a screenshot of it; with -update-screens it writes them to
// docs/screens/NAME.png. Each page must render its main element.
func TestScreens(t *testing.T) {
	h := servertest.Start(t)
	fitSetup(t, h)
	ctx := chrome(t, h, stepTimeout*10)
	base := h.Srv.URL()
	do(t, ctx, "the login page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	shot(t, ctx, "login")
	browserLogin(t, ctx, base, "alice", servertest.UserPassword)
	model := "/models"
	wait := "#models"
	if !skipFit() {
		browserSearch(t, ctx, base, "| inputlookup d1.csv | fit MLTKContainer algo=linreg y from x into app:IrisModel")
		browserSearch(t, ctx, base, "| inputlookup d2.csv | fit MLTKContainer algo=linreg y from x into app:IrisModel")
		model, wait = "/models/app:IrisModel", "#model-facts"
	}
	do(t, ctx, "search with a chart", chromedp.Navigate(base+"/search"), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SetValue(chromedp.CSS("#q"), "| inputlookup d2.csv | eval band=if(x>15, \"high\", \"low\") | stats avg(y) by band"),
		chromedp.Click(chromedp.CSS("#run")), chromedp.WaitVisible(chromedp.CSS("#search-done, #search-error")))
	shot(t, ctx, "search")
	for _, p := range []struct{ name, path, sel string }{
		{"models", "/models", "#models"},
		{"model", model, wait},
		{"containers", "/containers", "#containers"},
		{"notebooks", "/notebooks", "#notebooks"},
		{"notebook", "/notebooks/linreg", "#nb-history"},
	} {
		do(t, ctx, "the "+p.name+" page", chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
		shot(t, ctx, p.name)
	}
	browserLogin(t, ctx, base, "admin", servertest.AdminPassword)
	for _, p := range []struct{ name, path, sel string }{
		{"audit", "/audit?limit=20", "#audit-events"},
		{"admin", "/admin", "#users"},
	} {
		do(t, ctx, "the "+p.name+" page", chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
		shot(t, ctx, p.name)
	}
}

// skipFit says whether the fits cannot run here (no python3).
func skipFit() bool {
	_, err := os.Stat("/usr/bin/python3")
	return err != nil
}

// shot takes a screenshot of the page, checks it is an image, and writes
// it with -update-screens.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", name, err)
	}
	if _, err := png.DecodeConfig(bytes.NewReader(b)); err != nil {
		t.Fatalf("screenshot of %s is not a PNG: %v", name, err)
	}
	if !*updateScreens {
		return
	}
	if err := os.MkdirAll(screensDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screensDir, name+".png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
