//go:build linux

package agent

import "syscall"

// protectProcess makes the agent's process non-dumpable, so that no other
// process of its user without CAP_SYS_PTRACE (a notebook, which runs as
// the same user) can read its /proc files: its environment, its memory,
// its open files. The notebook runner is an exec'd program and dumpable
// again; it holds no secret the notebook may not see.
func protectProcess() error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 0, 0); e != 0 {
		return e
	}
	return nil
}
