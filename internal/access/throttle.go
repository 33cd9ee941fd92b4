package access

import (
	"math"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// ThrottleOptions configure how repeated failed logins are slowed down.
type ThrottleOptions struct {
	// MaxFailures is how many failed logins within Window may happen
	// without a wait; from the MaxFailures-th failure on, every failure
	// imposes a wait before the next attempt.
	MaxFailures int
	// Window is how long failures are remembered: the count restarts once
	// Window has passed since the last failure and the end of its wait.
	Window time.Duration
	// BaseDelay is the first wait; each further failure doubles it.
	BaseDelay time.Duration
	// MaxDelay caps the wait.
	MaxDelay time.Duration
}

// Validate reports whether o is usable.
func (o ThrottleOptions) Validate() error {
	if o.MaxFailures < 1 || o.Window <= 0 || o.BaseDelay <= 0 || o.MaxDelay < o.BaseDelay {
		return errdefs.Invalidf("login throttle %+v: max failures, window and base delay must be positive and max delay at least the base delay", o)
	}
	return nil
}

// failures is what the throttle remembers about one user or address.
type failures struct {
	count   int
	last    time.Time // last failure
	blocked time.Time // no attempt before this
}

// expired reports whether f no longer counts: Window has passed since the
// last failure and since the end of the last wait.
func (f *failures) expired(now time.Time, window time.Duration) bool {
	return now.Sub(f.last) > window && now.Sub(f.blocked) > window
}

// Throttle slows down repeated failed logins per user name and per remote
// address. It is in memory: a restart forgets it. Safe for concurrent use.
type Throttle struct {
	opts  ThrottleOptions
	now   func() time.Time
	mu    sync.Mutex
	users map[string]*failures
	addrs map[string]*failures
	ops   int
}

// NewThrottle returns a throttle; now is its clock (nil: time.Now).
func NewThrottle(opts ThrottleOptions, now func() time.Time) (*Throttle, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Throttle{opts: opts, now: now, users: map[string]*failures{}, addrs: map[string]*failures{}}, nil
}

// hostOf is the throttling key of a remote address: the host without the
// port, and for IPv6 its /64 network, since one client usually holds a
// whole /64 and could rotate through it.
func hostOf(addr string) string {
	h := addr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		h = host
	}
	ip := net.ParseIP(h)
	if ip == nil || ip.To4() != nil {
		return h
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

func userKey(user string) string { return strings.ToLower(user) }

// Allow returns an ErrLimit error while user or remoteAddr has to wait,
// and nil when an attempt may go ahead. It does not count an attempt.
func (t *Throttle) Allow(user, remoteAddr string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if f := t.users[userKey(user)]; f != nil && now.Before(f.blocked) {
		return errdefs.Limitf("too many failed logins for user %q; try again in %ds", user, waitSeconds(f.blocked.Sub(now)))
	}
	if host := hostOf(remoteAddr); host != "" {
		if f := t.addrs[host]; f != nil && now.Before(f.blocked) {
			return errdefs.Limitf("too many failed logins from %s; try again in %ds", host, waitSeconds(f.blocked.Sub(now)))
		}
	}
	return nil
}

func waitSeconds(d time.Duration) int64 { return int64(math.Ceil(d.Seconds())) }

// Fail records a failed login for user from remoteAddr.
func (t *Throttle) Fail(user, remoteAddr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.fail(t.users, userKey(user), now)
	if host := hostOf(remoteAddr); host != "" {
		t.fail(t.addrs, host, now)
	}
	if t.ops++; t.ops%1024 == 0 {
		t.sweep(now)
	}
}

func (t *Throttle) fail(m map[string]*failures, key string, now time.Time) {
	f := m[key]
	if f == nil || f.expired(now, t.opts.Window) {
		f = &failures{}
		m[key] = f
	}
	f.count++
	f.last = now
	if over := f.count - t.opts.MaxFailures + 1; over > 0 {
		f.blocked = now.Add(t.delay(over))
	}
}

// delay is the wait after failure number MaxFailures-1+n:
// BaseDelay * 2^(n-1), capped at MaxDelay.
func (t *Throttle) delay(n int) time.Duration {
	d := t.opts.BaseDelay
	for i := 1; i < n && d < t.opts.MaxDelay; i++ {
		d *= 2
	}
	return min(d, t.opts.MaxDelay)
}

// Succeed records a successful login: the user's failures are forgotten.
// The address's are kept, so that one good account does not reset a
// guessing run against others from the same address.
func (t *Throttle) Succeed(user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.users, userKey(user))
}

// sweep forgets entries that neither block nor count any more, so that
// guessed user names do not grow the maps forever.
func (t *Throttle) sweep(now time.Time) {
	for _, m := range []map[string]*failures{t.users, t.addrs} {
		for k, f := range m {
			if f.expired(now, t.opts.Window) {
				delete(m, k)
			}
		}
	}
}
