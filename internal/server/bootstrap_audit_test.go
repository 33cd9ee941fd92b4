package server_test

import (
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/server/servertest"
)

// TestFirstAdminIsAudited: the audit trail begins with the admin user that
// the first start creates (by "system", committed with the user), and a
// restart, which creates nobody, records no second one.
func TestFirstAdminIsAudited(t *testing.T) {
	dir := t.TempDir()
	h := servertest.StartConfig(t, servertest.Config(dir))
	all := auditActions(t, h)
	if !hasEvent(all, `"user.create"`, `"user:admin"`, `"system"`, `"first_start":true`) {
		t.Fatalf("no user.create event of the first admin by system:\n%s", all)
	}
	if strings.Contains(all, servertest.AdminPassword) {
		t.Errorf("the admin's password is in the audit trail")
	}
	h.Stop()
	h = servertest.StartConfig(t, servertest.Config(dir))
	if n := strings.Count(auditActions(t, h), `"user.create"`); n != 1 {
		t.Errorf("after a restart the admin's creation is recorded %d times, want 1", n)
	}
}
