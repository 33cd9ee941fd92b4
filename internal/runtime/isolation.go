package runtime

// Isolator is implemented by backends that can tell whether their containers
// are a security boundary. A backend that does not implement it is taken to
// isolate (Docker, Kubernetes). The process runtime without its sandbox does
// not: the containers service then lets only administrators (holders of
// admin_all_objects) start containers or run code in them there, and refuses
// everyone else with the reason.
type Isolator interface {
	// Isolated reports whether containers started from now on are
	// sandboxed; when they are not, reason says why and what to install.
	Isolated() (ok bool, reason string)
}

// IsIsolated reports whether rt's containers are a security boundary, and
// when not, why.
func IsIsolated(rt Runtime) (bool, string) {
	if i, ok := rt.(Isolator); ok {
		return i.Isolated()
	}
	return true, ""
}
