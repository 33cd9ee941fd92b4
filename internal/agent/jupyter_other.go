//go:build !unix

package agent

import (
	"os/exec"
	"syscall"
)

func jupyterSysProcAttr() *syscall.SysProcAttr { return nil }

// signalJupyter ends Jupyter (no process groups here: its kernels are
// left to notice).
func signalJupyter(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }
