package access

import (
	"slices"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Sharing is the level at which a knowledge object is shared, as in the seed:
// user (private to its owner), app (users of the same app), global (everyone).
type Sharing string

// Sharing levels.
const (
	SharingUser   Sharing = "user"
	SharingApp    Sharing = "app"
	SharingGlobal Sharing = "global"
)

// ParseSharing validates s.
func ParseSharing(s string) (Sharing, error) {
	switch Sharing(s) {
	case SharingUser, SharingApp, SharingGlobal:
		return Sharing(s), nil
	}
	return "", errdefs.Invalidf("sharing %q is not one of user, app, global", s)
}

// ACL is the permission record of a knowledge object (model, lookup,
// notebook). Read and Write list role names; "*" means every role. An empty
// Read list on a shared object means everyone may read it; an empty Write list
// means only the owner (and holders of admin_all_objects) may write.
type ACL struct {
	Owner   string   `json:"owner"`
	App     string   `json:"app"`
	Sharing Sharing  `json:"sharing"`
	Read    []string `json:"read"`
	Write   []string `json:"write"`
}

func (p *Principal) anyRole(roles []string) bool {
	return slices.ContainsFunc(roles, p.HasRole)
}

// visible reports whether the object's sharing level reaches the principal's
// app context at all (before read roles are considered). Nothing shared in
// an app the principal may not read reaches it.
func (p *Principal) visible(a ACL) bool {
	if !p.CanReadApp(a.App) {
		return false
	}
	switch a.Sharing {
	case SharingGlobal:
		return true
	case SharingApp:
		return p.App == a.App
	default:
		return false
	}
}

// CanRead reports whether the principal may read the object.
func (p *Principal) CanRead(a ACL) bool {
	if p == nil {
		return false
	}
	if p.Can(CapAdminAllObjects) || a.Owner == p.User {
		return true
	}
	if !p.visible(a) {
		return false
	}
	return len(a.Read) == 0 || p.anyRole(a.Read) || p.anyRole(a.Write)
}

// CanWrite reports whether the principal may change the object's contents.
func (p *Principal) CanWrite(a ACL) bool {
	if p == nil {
		return false
	}
	if p.Can(CapAdminAllObjects) || a.Owner == p.User {
		return true
	}
	return p.visible(a) && p.anyRole(a.Write)
}

// CanShare reports whether the principal may change the object's sharing and
// permissions: its owner or a holder of admin_all_objects.
func (p *Principal) CanShare(a ACL) bool {
	if p == nil {
		return false
	}
	return p.Can(CapAdminAllObjects) || a.Owner == p.User
}
