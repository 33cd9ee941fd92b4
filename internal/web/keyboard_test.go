package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

// TestBrowserKeyboardOnly logs in and opens a model page with the
// keyboard alone: the login form starts focused, Tab moves to the
// password, Enter submits; on a page the first Tab reaches the skip link.
func TestBrowserKeyboardOnly(t *testing.T) {
	h := servertest.Start(t)
	h.User("kim", access.RoleUser)
	ctx := chrome(t, h, 3*time.Minute)
	base := h.Srv.URL()
	do(t, ctx, "log in by keyboard",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#user")),
		chromedp.KeyEvent("kim"),
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent(servertest.UserPassword),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS("#whoami")),
	)
	if got := text(t, ctx, "#whoami"); got != "kim" {
		t.Fatalf("logged in as %q by keyboard, want kim", got)
	}
	do(t, ctx, "the skip link takes the first Tab",
		chromedp.Navigate(base+"/models"),
		chromedp.WaitVisible(chromedp.CSS("#models")),
		chromedp.KeyEvent("\t"),
		chromedp.WaitVisible(chromedp.CSS("a.skip:focus")),
	)
}
