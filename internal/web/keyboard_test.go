package web_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
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

// TestBrowserAdminFormsByKeyboard fills and sends administration forms
// with the keyboard alone, from each form's first field: Tab moves through
// the labelled fields in order, typing replaces a field's text, a letter
// picks a select's option, Space ticks a box, and Enter on the button
// sends the form. What the forms did is read back through the API.
func TestBrowserAdminFormsByKeyboard(t *testing.T) {
	h := servertest.Start(t)
	ctx := chrome(t, h, 4*time.Minute)
	base := h.Srv.URL()
	browserLogin(t, ctx, base, "admin", servertest.AdminPassword)
	do(t, ctx, "create a user by keyboard",
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible(chromedp.CSS("#u-name")),
		chromedp.Focus(chromedp.CSS("#u-name")),
		chromedp.KeyEvent("kbuser"),
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent("kbuser-password-1"),
		chromedp.KeyEvent("\t"), // into Roles, its text selected
		chromedp.KeyEvent("power"),
		chromedp.KeyEvent("\t"), // the button
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	ctxAPI := context.Background()
	users, err := h.Admin.Users(ctxAPI)
	i := slices.IndexFunc(users, func(u wire.User) bool { return u.Name == "kbuser" })
	if err != nil || i < 0 || !slices.Contains(users[i].Roles, "power") || slices.Contains(users[i].Roles, "user") {
		t.Fatalf("the users after the keyboard's form: %+v (%v); want kbuser with roles [power]", users, err)
	}
	do(t, ctx, "add an image by keyboard",
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible(chromedp.CSS("#i-name")),
		chromedp.Focus(chromedp.CSS("#i-name")),
		chromedp.KeyEvent("kbimage"),
		chromedp.KeyEvent("\t"), // Reference: none for the process runtime
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent("Keyboard agent"),
		chromedp.KeyEvent("\t"), // Runtime: p picks process
		chromedp.KeyEvent("p"),
		chromedp.KeyEvent("\t"), // GPU: Space ticks it
		chromedp.KeyEvent(" "),
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	im, err := h.Admin.Image(ctxAPI, "kbimage")
	if err != nil || im.Runtime != "process" || im.Title != "Keyboard agent" || !im.GPU {
		t.Fatalf("the image the keyboard added: %+v (%v); want process, titled, GPU", im, err)
	}
}
