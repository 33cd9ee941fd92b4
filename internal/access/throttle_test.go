package access

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var testThrottle = ThrottleOptions{MaxFailures: 5, Window: 15 * time.Minute, BaseDelay: time.Second, MaxDelay: 60 * time.Second}

func newTestThrottle(t *testing.T) (*Throttle, *fakeClock) {
	t.Helper()
	c := newFakeClock()
	th, err := NewThrottle(testThrottle, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	return th, c
}

// wantWait checks that Allow refuses with a message naming who and the wait.
func wantWait(t *testing.T, err error, who string, seconds string) {
	t.Helper()
	if !errdefs.IsLimit(err) || !strings.Contains(err.Error(), who) || !strings.Contains(err.Error(), "try again in "+seconds+"s") {
		t.Fatalf("Allow error = %v; want ErrLimit naming %s and %ss", err, who, seconds)
	}
}

func TestThrottlePerUser(t *testing.T) {
	th, c := newTestThrottle(t)
	for i := 0; i < 4; i++ {
		if err := th.Allow("alice", ""); err != nil {
			t.Fatalf("attempt %d refused: %v", i+1, err)
		}
		th.Fail("alice", "")
	}
	if err := th.Allow("alice", ""); err != nil {
		t.Fatalf("attempt 5 refused: %v", err)
	}
	th.Fail("alice", "") // fifth failure: waits start
	wantWait(t, th.Allow("alice", ""), `user "alice"`, "1")
	if err := th.Allow("bob", ""); err != nil {
		t.Fatalf("other user refused: %v", err)
	}
	// Each further failure doubles the wait, up to MaxDelay.
	for _, want := range []string{"2", "4", "8", "16", "32", "60", "60"} {
		c.Advance(time.Minute)
		if err := th.Allow("alice", ""); err != nil {
			t.Fatalf("attempt after the wait refused: %v", err)
		}
		th.Fail("alice", "")
		wantWait(t, th.Allow("ALICE", ""), `user "ALICE"`, want)
	}
	// A success resets the user's count.
	c.Advance(time.Minute)
	th.Succeed("alice")
	for i := 0; i < 4; i++ {
		th.Fail("alice", "")
	}
	if err := th.Allow("alice", ""); err != nil {
		t.Fatalf("after a success, 4 failures refused: %v", err)
	}
}

func TestThrottlePerAddress(t *testing.T) {
	th, c := newTestThrottle(t)
	for _, u := range []string{"a", "b", "c", "d", "e"} {
		th.Fail(u, "10.0.0.1:5000")
	}
	wantWait(t, th.Allow("f", "10.0.0.1:6001"), "from 10.0.0.1", "1")
	if err := th.Allow("f", "10.0.0.2:6001"); err != nil {
		t.Fatalf("other address refused: %v", err)
	}
	// A success for one user does not clear the address.
	th.Succeed("a")
	wantWait(t, th.Allow("a", "10.0.0.1:1"), "from 10.0.0.1", "1")
	c.Advance(2 * time.Second)
	if err := th.Allow("a", "10.0.0.1:1"); err != nil {
		t.Fatalf("refused after the wait: %v", err)
	}
}

func TestThrottleWindow(t *testing.T) {
	th, c := newTestThrottle(t)
	for i := 0; i < 4; i++ {
		th.Fail("alice", "")
	}
	c.Advance(16 * time.Minute) // failures forgotten
	th.Fail("alice", "")
	if err := th.Allow("alice", ""); err != nil {
		t.Fatalf("failures outside the window still counted: %v", err)
	}
	th.sweep(c.Now().Add(time.Hour))
	if len(th.users) != 0 {
		t.Fatalf("sweep kept %d stale entries", len(th.users))
	}
}

func TestThrottleOptionsValidate(t *testing.T) {
	bad := []ThrottleOptions{
		{},
		{MaxFailures: 5, Window: time.Minute, BaseDelay: time.Second},
		{MaxFailures: 0, Window: time.Minute, BaseDelay: time.Second, MaxDelay: time.Minute},
	}
	for _, o := range bad {
		if _, err := NewThrottle(o, nil); !errdefs.IsInvalid(err) {
			t.Errorf("NewThrottle(%+v) error = %v, want ErrInvalid", o, err)
		}
	}
}

// TestThrottleIPv6Network: failures from one IPv6 /64 count together, so a
// client cannot rotate through its own network's addresses.
func TestThrottleIPv6Network(t *testing.T) {
	th, _ := newTestThrottle(t)
	for i, u := range []string{"a", "b", "c", "d", "e"} {
		th.Fail(u, fmt.Sprintf("[2001:db8:1:2::%x]:5000", i+1))
	}
	wantWait(t, th.Allow("f", "[2001:db8:1:2:ffff::9]:6001"), "from 2001:db8:1:2::/64", "1")
	if err := th.Allow("f", "[2001:db8:1:3::1]:6001"); err != nil {
		t.Fatalf("another /64 refused: %v", err)
	}
}
