//go:build unix

package agent

import (
	"os/exec"
	"syscall"
)

// signalJupyter asks Jupyter's process group to end (SIGTERM: Jupyter
// shuts its kernels down), or kills it.
func signalJupyter(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}
