package runtimetest

import (
	_ "embed"
	"strconv"
	"strings"
	"testing"
)

// ProbeNotebook is a notebook (a plain .py module) that probes the
// boundary of the container it runs in: run by fit, its one result row
// says, column by column, whether it could open the host files named by
// its parameters (db, ca_key, secret_key, other_token, other_key), the
// environment of its parent (the agent) and of PID 1, which pids /proc
// lists, and whether the value of its canary parameter appears in its
// environment. CheckProbe asserts on the row.
//
//go:embed probe.py
var ProbeNotebook []byte

// CheckProbe fails t for every probe finding in row that shows the
// boundary leaking: a host file or another process's environment that
// could be read, the canary in the environment, or /proc listing more
// than the sandbox's own few processes. want lists the file checks that
// must be present (such as "db"), so that a probe that skipped one fails.
func CheckProbe(t *testing.T, row map[string]string, want ...string) {
	t.Helper()
	if len(row) == 0 {
		t.Fatal("the probe returned no findings")
	}
	for _, k := range append(want, "parent_environ", "pid1_environ") {
		v, ok := row["probe_"+k]
		switch {
		case !ok:
			t.Errorf("probe: no finding for %s", k)
		case !strings.HasPrefix(v, "denied"):
			t.Errorf("probe: %s: %s, want denied", k, v)
		}
	}
	if v := row["probe_canary"]; v != "absent" {
		t.Errorf("probe: the server's environment reaches the notebook: canary %q; its variables: %s", v, row["probe_env"])
	}
	pids := strings.Fields(row["probe_pids"])
	self := row["probe_self"]
	found := false
	for _, p := range pids {
		n, err := strconv.Atoi(p)
		if err != nil || n > 100 {
			t.Errorf("probe: /proc lists pid %s: it sees processes beyond its sandbox (all: %v)", p, pids)
			break
		}
		found = found || p == self
	}
	if len(pids) == 0 || len(pids) > 10 || !found {
		t.Errorf("probe: /proc lists %v (itself: %s): want only the sandbox's own few processes", pids, self)
	}
}
