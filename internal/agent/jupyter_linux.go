package agent

import "syscall"

// jupyterSysProcAttr puts Jupyter in its own process group (stopping it
// reaches its kernels) and has the kernel end it when the agent dies
// without stopping it (killed), so that no Jupyter outlives its agent.
func jupyterSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
