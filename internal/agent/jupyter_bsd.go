//go:build unix && !linux

package agent

import "syscall"

// jupyterSysProcAttr puts Jupyter in its own process group (stopping it
// reaches its kernels).
func jupyterSysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
