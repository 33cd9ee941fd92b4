package access

// Reach says how a knowledge object named in a request reaches a caller:
// the steps of the seed's name resolution, strongest first.
type Reach int

// The steps of name resolution. Higher wins.
const (
	Unreached    Reach = iota // not addressable by name from the caller's app
	ReachGlobal               // shared globally from another app
	ReachApp                  // shared in the current app (app or global sharing)
	ReachPrivate              // the owner's private object in the current app
)

// ReachOf returns how an object with acl reaches owner's requests in app.
func ReachOf(a ACL, app, owner string) Reach {
	switch {
	case a.App == app && a.Sharing == SharingUser && a.Owner == owner:
		return ReachPrivate
	case a.App == app && a.Sharing != SharingUser:
		return ReachApp
	case a.App != app && a.Sharing == SharingGlobal:
		return ReachGlobal
	}
	return Unreached
}

// Resolve picks the object a name means among cands (all the objects of
// that name): the one with the highest reach from owner's requests in app
// that allow admits and ok accepts (ok usually checks p.CanRead), the first
// in cands' order among equals. Models, lookups and notebooks all resolve
// names through it, so "private in this app, then this app's shared one,
// then a global one from another app" means the same everywhere.
func Resolve[T any](cands []T, acl func(T) ACL, app, owner string, allow func(Reach) bool, ok func(T) bool) (T, bool) {
	var best T
	bestReach := Unreached
	for _, c := range cands {
		r := ReachOf(acl(c), app, owner)
		if r <= bestReach || allow != nil && !allow(r) || !ok(c) {
			continue
		}
		best, bestReach = c, r
	}
	return best, bestReach != Unreached
}
