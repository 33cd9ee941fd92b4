// Package kubenode is a test node for a Kubernetes API server that runs no
// kubelet, no scheduler, no controller manager and no kube-proxy (such as
// the one .ci/kube.sh starts). It plays those parts for the Pods of one
// namespace, just enough for the Kubernetes runtime's tests:
//
//   - it registers a Node (with allocatable nvidia.com/gpu when asked) whose
//     kubelet endpoint is a small HTTPS server of its own that serves
//     container logs, so that pods/log works through the API server;
//   - it creates the namespace's default ServiceAccount (no controller
//     manager does);
//   - it binds pending Pods to itself when they fit (node selector,
//     tolerations, GPUs), and says why in PodScheduled when they do not;
//   - it runs each bound Pod's single container as a local process: the
//     container's command with its first word replaced by
//     Options.Executable, its environment (env and envFrom Secrets), its
//     Secret, emptyDir and persistentVolumeClaim volumes as directories (a
//     claim's outlives the Pod; paths in arguments are mapped), on a random
//     loopback address of its own as pod IP;
//   - it reports Pod status (phase, pod IP, Ready once the container's
//     first port accepts connections, container state, exit code), acts on
//     activeDeadlineSeconds as the kubelet does (stops the Pod, reason
//     DeadlineExceeded), and on deletion kills the process (SIGTERM, then
//     SIGKILL after the grace period) and removes the Pod;
//   - it forwards each Service's cluster IP and port to the pod IP of the
//     Pod it selects (as kube-proxy would), which needs the API server's
//     service range on loopback.
//
// NetworkPolicies are not enforced, security contexts are not applied
// (the processes run as the test's user) and images are not pulled.
package kubenode

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
)

// Options configure a Node.
type Options struct {
	Name      string // the Node's name ("dockyard-test-node")
	Namespace string // the Pods it serves
	// GPUs is the node's capacity and allocatable nvidia.com/gpu (0: none).
	GPUs   int
	Labels map[string]string
	Taints []corev1.Taint
	// Executable replaces the first word of each container's command.
	Executable string
	// Env is added to every process's environment.
	Env []string
	// Dir holds the Pods' volumes ("": a temporary directory).
	Dir string
	// Logf logs what the node does (nil: nothing).
	Logf func(format string, args ...any)
}

// Node is a running test node.
type Node struct {
	o      Options
	ownDir bool // o.Dir is the node's own: removed at Close
	cs     kubernetes.Interface
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	logSrv *http.Server

	mu       sync.Mutex
	pods     map[string]*podProc // by Pod UID
	logs     map[string]*logBuf  // by namespace/name: the latest incarnation's
	proxies  map[string]net.Listener
	reported map[string]string // Pod UID: the unschedulable message reported
}

// podProc is a Pod's running (or finished) process.
type podProc struct {
	uid, name string
	ip        string
	dir       string
	cmd       *exec.Cmd
	exited    chan struct{}
	exitCode  int
	started   time.Time
	killed    string // why the node stopped it ("DeadlineExceeded"), "" otherwise
	ready     bool
	reported  string // the last status reported
	port      int
	stopOnce  sync.Once
}

// logBuf is a container's output, line by line with times.
type logBuf struct {
	mu    sync.Mutex
	lines []logLine
}

type logLine struct {
	t    time.Time
	text string
}

func (b *logBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	for _, l := range strings.SplitAfter(string(p), "\n") {
		if l == "" {
			continue
		}
		if n := len(b.lines); n > 0 && !strings.HasSuffix(b.lines[n-1].text, "\n") {
			b.lines[n-1].text += l
			continue
		}
		b.lines = append(b.lines, logLine{now, l})
	}
	return len(p), nil
}

// Start registers the node and serves the namespace's Pods until Close.
func Start(cs kubernetes.Interface, o Options) (*Node, error) {
	if o.Name == "" {
		o.Name = "dockyard-test-node"
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	ownDir := false
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "kubenode-")
		if err != nil {
			return nil, err
		}
		o.Dir, ownDir = d, true
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{o: o, ownDir: ownDir, cs: cs, ctx: ctx, cancel: cancel, done: make(chan struct{}), pods: map[string]*podProc{},
		logs: map[string]*logBuf{}, proxies: map[string]net.Listener{}, reported: map[string]string{}}
	port, err := n.serveLogs()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := n.register(ctx, port); err != nil {
		n.logSrv.Close()
		cancel()
		return nil, err
	}
	if err := n.ensureServiceAccount(ctx); err != nil {
		n.logSrv.Close()
		cancel()
		return nil, err
	}
	go n.loop()
	return n, nil
}

// Close kills every process, deletes the node and stops serving.
func (n *Node) Close() {
	n.cancel()
	<-n.done
	n.mu.Lock()
	procs := make([]*podProc, 0, len(n.pods))
	for _, p := range n.pods {
		procs = append(procs, p)
	}
	for _, l := range n.proxies {
		l.Close()
	}
	n.mu.Unlock()
	for _, p := range procs {
		n.kill(p, time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = n.cs.CoreV1().Nodes().Delete(ctx, n.o.Name, metav1.DeleteOptions{})
	n.logSrv.Close()
	if n.ownDir {
		os.RemoveAll(n.o.Dir)
	}
}

func (n *Node) register(ctx context.Context, port int) error {
	nodes := n.cs.CoreV1().Nodes()
	_ = nodes.Delete(ctx, n.o.Name, metav1.DeleteOptions{})
	labels := map[string]string{"kubernetes.io/hostname": n.o.Name, "kubernetes.io/os": "linux"}
	for k, v := range n.o.Labels {
		labels[k] = v
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.o.Name, Labels: labels}, Spec: corev1.NodeSpec{Taints: n.o.Taints}}
	node, err := nodes.Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("registering node %s: %w", n.o.Name, err)
	}
	res := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("16"),
		corev1.ResourceMemory: resource.MustParse("64Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	if n.o.GPUs > 0 {
		res["nvidia.com/gpu"] = *resource.NewQuantity(int64(n.o.GPUs), resource.DecimalSI)
	}
	now := metav1.Now()
	node.Status = corev1.NodeStatus{
		Capacity: res, Allocatable: res,
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			Message: "the dockyard test node is ready", LastHeartbeatTime: now, LastTransitionTime: now}},
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}},
		NodeInfo:        corev1.NodeSystemInfo{KubeletVersion: "v0.0.0-dockyard-test", OperatingSystem: "linux", Architecture: "amd64"},
	}
	if _, err := nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("node %s status: %w", n.o.Name, err)
	}
	return nil
}

func (n *Node) ensureServiceAccount(ctx context.Context) error {
	_, err := n.cs.CoreV1().ServiceAccounts(n.o.Namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("the default ServiceAccount of %s: %w", n.o.Namespace, err)
	}
	return nil
}

// loop reconciles the namespace's Pods and Services until Close.
func (n *Node) loop() {
	defer close(n.done)
	for {
		n.sync()
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(150 * time.Millisecond):
		}
	}
}

func (n *Node) sync() {
	ctx := n.ctx
	pods, err := n.cs.CoreV1().Pods(n.o.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		if ctx.Err() == nil {
			n.o.Logf("kubenode: listing pods: %v", err)
		}
		return
	}
	seen := map[string]bool{}
	for i := range pods.Items {
		p := &pods.Items[i]
		seen[string(p.UID)] = true
		n.syncPod(ctx, p, pods.Items)
	}
	// Pods deleted outright (grace 0, or by another client).
	n.mu.Lock()
	var gone []*podProc
	for uid, pp := range n.pods {
		if !seen[uid] {
			gone = append(gone, pp)
			delete(n.pods, uid)
		}
	}
	n.mu.Unlock()
	for _, pp := range gone {
		n.kill(pp, time.Second)
		os.RemoveAll(pp.dir)
	}
	n.syncServices(ctx, pods.Items)
}

func (n *Node) syncPod(ctx context.Context, p *corev1.Pod, all []corev1.Pod) {
	uid := string(p.UID)
	n.mu.Lock()
	pp := n.pods[uid]
	n.mu.Unlock()
	switch {
	case p.DeletionTimestamp != nil:
		if p.Spec.NodeName != "" && p.Spec.NodeName != n.o.Name {
			return
		}
		grace := time.Duration(0)
		if p.DeletionGracePeriodSeconds != nil {
			grace = time.Duration(*p.DeletionGracePeriodSeconds) * time.Second
		}
		if pp != nil {
			n.kill(pp, grace)
			os.RemoveAll(pp.dir)
			n.mu.Lock()
			delete(n.pods, uid)
			n.mu.Unlock()
		}
		zero := int64(0)
		err := n.cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &p.UID}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			n.o.Logf("kubenode: removing pod %s: %v", p.Name, err)
		}
		n.mu.Lock()
		delete(n.logs, p.Namespace+"/"+p.Name)
		n.mu.Unlock()
	case p.Spec.NodeName == "":
		n.schedule(ctx, p, all)
	case p.Spec.NodeName != n.o.Name:
	case pp == nil && p.Status.Phase == corev1.PodPending || pp == nil && p.Status.Phase == "":
		n.startPod(ctx, p)
	case pp != nil:
		n.watchPod(ctx, p, pp)
	}
}

// schedule binds p to this node when it fits.
func (n *Node) schedule(ctx context.Context, p *corev1.Pod, all []corev1.Pod) {
	if why := n.fits(p, all); why != "" {
		n.mu.Lock()
		same := n.reported[string(p.UID)] == why
		n.reported[string(p.UID)] = why
		n.mu.Unlock()
		if same {
			return
		}
		// Each test node says why it does not fit, as the scheduler
		// says it for every node: "NODE: why; NODE: why".
		_ = n.updateStatus(ctx, p, func(s *corev1.PodStatus) {
			parts := map[string]string{}
			for _, c := range s.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
					for _, part := range strings.Split(strings.TrimPrefix(c.Message, "nodes are unavailable: "), "; ") {
						if node, reason, ok := strings.Cut(part, ": "); ok {
							parts[node] = reason
						}
					}
				}
			}
			parts[n.o.Name] = why
			var msg []string
			for _, node := range sortedNames(parts) {
				msg = append(msg, node+": "+parts[node])
			}
			setCondition(s, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
				Message: "nodes are unavailable: " + strings.Join(msg, "; ")})
		})
		return
	}
	err := n.cs.CoreV1().Pods(p.Namespace).Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name, UID: p.UID},
		Target: corev1.ObjectReference{Kind: "Node", Name: n.o.Name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsConflict(err) {
		n.o.Logf("kubenode: binding %s: %v", p.Name, err)
	}
}

// fits says why p does not fit this node ("" when it does).
func (n *Node) fits(p *corev1.Pod, all []corev1.Pod) string {
	node := labels.Set{"kubernetes.io/hostname": n.o.Name, "kubernetes.io/os": "linux"}
	for k, v := range n.o.Labels {
		node[k] = v
	}
	if !labels.SelectorFromSet(p.Spec.NodeSelector).Matches(node) {
		return "node didn't match Pod's node affinity/selector"
	}
	for _, t := range n.o.Taints {
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		ok := false
		for _, tol := range p.Spec.Tolerations {
			if tol.ToleratesTaint(&t) {
				ok = true
			}
		}
		if !ok {
			return fmt.Sprintf("node had untolerated taint {%s: %s}", t.Key, t.Value)
		}
	}
	want := gpus(p)
	if want == 0 {
		return ""
	}
	used := int64(0)
	for i := range all {
		q := &all[i]
		if q.Spec.NodeName == n.o.Name && q.Status.Phase != corev1.PodSucceeded && q.Status.Phase != corev1.PodFailed {
			used += gpus(q)
		}
	}
	if used+want > int64(n.o.GPUs) {
		return "Insufficient nvidia.com/gpu"
	}
	return ""
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func gpus(p *corev1.Pod) int64 {
	var total int64
	for _, c := range p.Spec.Containers {
		if q, ok := c.Resources.Limits["nvidia.com/gpu"]; ok {
			total += q.Value()
		}
	}
	return total
}

// startPod runs the Pod's container as a local process.
func (n *Node) startPod(ctx context.Context, p *corev1.Pod) {
	if len(p.Spec.Containers) != 1 {
		n.fail(ctx, p, "the test node runs Pods of one container only")
		return
	}
	c := p.Spec.Containers[0]
	port := 0
	if len(c.Ports) > 0 {
		port = int(c.Ports[0].ContainerPort)
	}
	ip, err := freeLoopback(port)
	if err != nil {
		n.waiting(ctx, p, "CreatePodSandboxError", err.Error())
		return
	}
	dir := filepath.Join(n.o.Dir, string(p.UID))
	mounts, err := n.volumes(ctx, p, dir)
	if err != nil {
		n.waiting(ctx, p, "CreateContainerConfigError", err.Error())
		os.RemoveAll(dir)
		return
	}
	env, err := n.env(ctx, p, c)
	if err != nil {
		n.waiting(ctx, p, "CreateContainerConfigError", err.Error())
		os.RemoveAll(dir)
		return
	}
	args := append(append([]string{}, c.Command[1:]...), c.Args...)
	for i, a := range args {
		args[i] = mapPath(mounts, a)
		if i > 0 && (args[i-1] == "--addr" || args[i-1] == "-addr") {
			if host, port, err := net.SplitHostPort(a); err == nil && (host == "0.0.0.0" || host == "") {
				args[i] = net.JoinHostPort(ip, port)
			}
		}
	}
	cmd := exec.Command(n.o.Executable, args...)
	cmd.Env = append(env, n.o.Env...)
	if c.WorkingDir != "" {
		cmd.Dir = mapPath(mounts, c.WorkingDir)
	}
	buf := &logBuf{}
	cmd.Stdout, cmd.Stderr = buf, buf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pp := &podProc{uid: string(p.UID), name: p.Name, ip: ip, dir: dir, cmd: cmd, exited: make(chan struct{}), port: port}
	if err := cmd.Start(); err != nil {
		n.waiting(ctx, p, "RunContainerError", err.Error())
		os.RemoveAll(dir)
		return
	}
	pp.started = time.Now()
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			pp.exitCode = ee.ExitCode()
			if pp.exitCode < 0 {
				pp.exitCode = 137
			}
		}
		close(pp.exited)
	}()
	n.mu.Lock()
	n.pods[pp.uid] = pp
	n.logs[p.Namespace+"/"+p.Name] = buf
	n.mu.Unlock()
	n.o.Logf("kubenode: started pod %s at %s (pid %d)", p.Name, ip, cmd.Process.Pid)
	n.watchPod(ctx, p, pp)
}

// watchPod reports the process's state and acts on the Pod's deadline.
func (n *Node) watchPod(ctx context.Context, p *corev1.Pod, pp *podProc) {
	if d := p.Spec.ActiveDeadlineSeconds; d != nil && pp.killed == "" && time.Since(pp.started) >= time.Duration(*d)*time.Second {
		pp.killed = "DeadlineExceeded"
		grace := 30 * time.Second
		if g := p.Spec.TerminationGracePeriodSeconds; g != nil {
			grace = time.Duration(*g) * time.Second
		}
		go n.kill(pp, grace)
	}
	select {
	case <-pp.exited:
	default:
		if !pp.ready && pp.port > 0 {
			if conn, err := net.DialTimeout("tcp", net.JoinHostPort(pp.ip, strconv.Itoa(pp.port)), 200*time.Millisecond); err == nil {
				conn.Close()
				pp.ready = true
			}
		}
	}
	state := "running"
	select {
	case <-pp.exited:
		state = "exited"
	default:
	}
	report := fmt.Sprintf("%s %v %s", state, pp.ready, pp.killed)
	if report == pp.reported {
		return
	}
	start := metav1.NewTime(pp.started)
	err := n.updateStatus(ctx, p, func(s *corev1.PodStatus) {
		s.HostIP, s.PodIP = "127.0.0.1", pp.ip
		s.HostIPs, s.PodIPs = []corev1.HostIP{{IP: "127.0.0.1"}}, []corev1.PodIP{{IP: pp.ip}}
		s.StartTime = &start
		cs := corev1.ContainerStatus{Name: p.Spec.Containers[0].Name, Image: p.Spec.Containers[0].Image, ImageID: p.Spec.Containers[0].Image,
			ContainerID: "kubenode://" + pp.uid}
		ready := corev1.ConditionFalse
		if state == "running" {
			s.Phase = corev1.PodRunning
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: start}
			cs.Started = &[]bool{true}[0]
			if pp.ready {
				ready = corev1.ConditionTrue
				cs.Ready = true
			}
		} else {
			s.Phase = corev1.PodSucceeded
			if pp.exitCode != 0 || pp.killed != "" {
				s.Phase = corev1.PodFailed
			}
			s.Reason, s.Message = pp.killed, ""
			if pp.killed == "DeadlineExceeded" {
				s.Message = "Pod was active on the node longer than the specified deadline"
			}
			cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: int32(pp.exitCode), StartedAt: start, FinishedAt: metav1.Now(), Reason: "Completed"}
			if pp.exitCode != 0 {
				cs.State.Terminated.Reason = "Error"
			}
		}
		s.ContainerStatuses = []corev1.ContainerStatus{cs}
		setCondition(s, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue})
		setCondition(s, corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue})
		setCondition(s, corev1.PodCondition{Type: corev1.ContainersReady, Status: ready})
		setCondition(s, corev1.PodCondition{Type: corev1.PodReady, Status: ready})
	})
	if err == nil {
		pp.reported = report
	}
}

// kill stops the process: SIGTERM, SIGKILL after grace.
func (n *Node) kill(pp *podProc, grace time.Duration) {
	pp.stopOnce.Do(func() {
		if pp.cmd.Process == nil {
			return
		}
		_ = syscall.Kill(-pp.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-pp.exited:
		case <-time.After(grace):
			_ = syscall.Kill(-pp.cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	select {
	case <-pp.exited:
	case <-time.After(grace + 10*time.Second):
		_ = syscall.Kill(-pp.cmd.Process.Pid, syscall.SIGKILL)
		<-pp.exited
	}
}

func (n *Node) fail(ctx context.Context, p *corev1.Pod, msg string) {
	_ = n.updateStatus(ctx, p, func(s *corev1.PodStatus) { s.Phase, s.Message = corev1.PodFailed, msg })
}

func (n *Node) waiting(ctx context.Context, p *corev1.Pod, reason, msg string) {
	n.o.Logf("kubenode: pod %s: %s: %s", p.Name, reason, msg)
	_ = n.updateStatus(ctx, p, func(s *corev1.PodStatus) {
		s.Phase = corev1.PodPending
		s.ContainerStatuses = []corev1.ContainerStatus{{Name: p.Spec.Containers[0].Name, Image: p.Spec.Containers[0].Image,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}
	})
}

// updateStatus applies mod to the Pod's current status, retrying on
// conflicts.
func (n *Node) updateStatus(ctx context.Context, p *corev1.Pod, mod func(*corev1.PodStatus)) error {
	pods := n.cs.CoreV1().Pods(p.Namespace)
	cur := p.DeepCopy()
	for i := 0; i < 5; i++ {
		mod(&cur.Status)
		_, err := pods.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err == nil || !apierrors.IsConflict(err) {
			if err != nil && !apierrors.IsNotFound(err) {
				n.o.Logf("kubenode: pod %s status: %v", p.Name, err)
			}
			return err
		}
		if cur, err = pods.Get(ctx, p.Name, metav1.GetOptions{}); err != nil || cur.UID != p.UID {
			return fmt.Errorf("pod %s is gone", p.Name)
		}
	}
	return fmt.Errorf("pod %s: status conflicts", p.Name)
}

func setCondition(s *corev1.PodStatus, c corev1.PodCondition) {
	c.LastTransitionTime = metav1.Now()
	for i := range s.Conditions {
		if s.Conditions[i].Type == c.Type {
			if s.Conditions[i].Status != c.Status || s.Conditions[i].Message != c.Message {
				s.Conditions[i] = c
			}
			return
		}
	}
	s.Conditions = append(s.Conditions, c)
}

// freeLoopback picks a pod IP: a random loopback address outside
// 127.0.0.0/16 (where the API server and the service range live) whose
// port is free. Random, so that test nodes of several test binaries
// running at once do not meet.
func freeLoopback(port int) (string, error) {
	for i := 0; i < 20; i++ {
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		ip := fmt.Sprintf("127.%d.%d.%d", 1+int(b[0])%250, b[1], 1+int(b[2])%250)
		if port == 0 {
			return ip, nil
		}
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		return ip, nil
	}
	return "", fmt.Errorf("no free loopback address for port %d", port)
}

// mount is a container path and the directory (or file) standing for it.
type mount struct{ path, host string }

// volumes writes the Pod's Secret volumes and makes its emptyDirs under
// dir, and returns the container's mounts, longest path first. A mount of
// one file (subPath) into another mount is copied there.
func (n *Node) volumes(ctx context.Context, p *corev1.Pod, dir string) ([]mount, error) {
	vdir := map[string]string{}
	for _, v := range p.Spec.Volumes {
		d := filepath.Join(dir, "volumes", v.Name)
		if err := os.MkdirAll(d, 0o777); err != nil {
			return nil, err
		}
		vdir[v.Name] = d
		switch {
		case v.EmptyDir != nil:
			_ = os.Chmod(d, 0o777)
		case v.PersistentVolumeClaim != nil:
			// A claim outlives its Pods: its directory is the node's,
			// by namespace and claim.
			d = filepath.Join(n.o.Dir, "claims", p.Namespace, v.PersistentVolumeClaim.ClaimName)
			if err := os.MkdirAll(d, 0o777); err != nil {
				return nil, err
			}
			vdir[v.Name] = d
		case v.Secret != nil:
			sec, err := n.cs.CoreV1().Secrets(p.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) && v.Secret.Optional != nil && *v.Secret.Optional {
					continue
				}
				return nil, fmt.Errorf("volume %s: secret %s: %w", v.Name, v.Secret.SecretName, err)
			}
			mode := os.FileMode(0o644)
			if v.Secret.DefaultMode != nil {
				mode = os.FileMode(*v.Secret.DefaultMode)
			}
			items := v.Secret.Items
			if len(items) == 0 {
				for k := range sec.Data {
					items = append(items, corev1.KeyToPath{Key: k, Path: k})
				}
			}
			for _, it := range items {
				b, ok := sec.Data[it.Key]
				if !ok {
					return nil, fmt.Errorf("volume %s: secret %s has no key %s", v.Name, sec.Name, it.Key)
				}
				m := mode
				if it.Mode != nil {
					m = os.FileMode(*it.Mode)
				}
				f := filepath.Join(d, filepath.FromSlash(it.Path))
				if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
					return nil, err
				}
				if err := os.WriteFile(f, b, m); err != nil {
					return nil, err
				}
			}
		default:
			return nil, fmt.Errorf("volume %s: the test node has emptyDir, secret and persistentVolumeClaim volumes only", v.Name)
		}
	}
	c := p.Spec.Containers[0]
	var mounts, sub []mount
	for _, m := range c.VolumeMounts {
		d, ok := vdir[m.Name]
		if !ok {
			return nil, fmt.Errorf("mount %s: no volume %s", m.MountPath, m.Name)
		}
		if m.SubPath != "" {
			sub = append(sub, mount{m.MountPath, filepath.Join(d, filepath.FromSlash(m.SubPath))})
			continue
		}
		mounts = append(mounts, mount{m.MountPath, d})
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].path) > len(mounts[j].path) })
	for _, s := range sub {
		dst := mapPath(mounts, s.path)
		if dst == s.path {
			return nil, fmt.Errorf("mount %s: the test node mounts files into other mounts only", s.path)
		}
		b, err := os.ReadFile(s.host)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
			return nil, err
		}
		if err := os.WriteFile(dst, b, 0o444); err != nil {
			return nil, err
		}
	}
	return mounts, nil
}

// mapPath maps a container path (or a --flag=path) to the host.
func mapPath(mounts []mount, a string) string {
	for _, m := range mounts {
		if a == m.path || strings.HasPrefix(a, m.path+"/") {
			return m.host + strings.TrimPrefix(a, m.path)
		}
	}
	return a
}

// env is the container's environment: env (values and Secret keys) and
// envFrom Secrets.
func (n *Node) env(ctx context.Context, p *corev1.Pod, c corev1.Container) ([]string, error) {
	vals := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef == nil {
			return nil, fmt.Errorf("envFrom: the test node reads Secrets only")
		}
		sec, err := n.cs.CoreV1().Secrets(p.Namespace).Get(ctx, ef.SecretRef.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && ef.SecretRef.Optional != nil && *ef.SecretRef.Optional {
				continue
			}
			return nil, fmt.Errorf("envFrom secret %s: %w", ef.SecretRef.Name, err)
		}
		for k, v := range sec.Data {
			vals[ef.Prefix+k] = string(v)
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			vals[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			sec, err := n.cs.CoreV1().Secrets(p.Namespace).Get(ctx, e.ValueFrom.SecretKeyRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			vals[e.Name] = string(sec.Data[e.ValueFrom.SecretKeyRef.Key])
		default:
			return nil, fmt.Errorf("env %s: the test node reads values and Secret keys only", e.Name)
		}
	}
	out := make([]string, 0, len(vals))
	for k, v := range vals {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

// syncServices forwards each Service's cluster IP and port to the Pod it
// selects (one per Service: the runtime's are), as kube-proxy would.
func (n *Node) syncServices(ctx context.Context, pods []corev1.Pod) {
	svcs, err := n.cs.CoreV1().Services(n.o.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	want := map[string]corev1.Service{}
	for _, s := range svcs.Items {
		if s.Spec.ClusterIP == "" || s.Spec.ClusterIP == corev1.ClusterIPNone || len(s.Spec.Selector) == 0 {
			continue
		}
		for _, port := range s.Spec.Ports {
			want[net.JoinHostPort(s.Spec.ClusterIP, strconv.Itoa(int(port.Port)))+"/"+string(s.UID)] = s
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, l := range n.proxies {
		if _, ok := want[k]; !ok {
			l.Close()
			delete(n.proxies, k)
		}
	}
	for k, s := range want {
		if _, ok := n.proxies[k]; ok {
			continue
		}
		addr, _, _ := strings.Cut(k, "/")
		l, err := net.Listen("tcp", addr)
		if err != nil {
			n.o.Logf("kubenode: service %s: listening on %s: %v", s.Name, addr, err)
			continue
		}
		n.proxies[k] = l
		go n.proxy(l, s)
	}
}

func (n *Node) proxy(l net.Listener, s corev1.Service) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			backend := n.backend(s)
			if backend == "" {
				return
			}
			up, err := net.DialTimeout("tcp", backend, 5*time.Second)
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(up, conn); done <- struct{}{} }()
			go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
			<-done
		}()
	}
}

// backend is the pod IP and target port of a running Pod s selects.
func (n *Node) backend(s corev1.Service) string {
	ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
	defer cancel()
	pods, err := n.cs.CoreV1().Pods(s.Namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(s.Spec.Selector).String()})
	if err != nil {
		return ""
	}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && p.DeletionTimestamp == nil {
			return net.JoinHostPort(p.Status.PodIP, s.Spec.Ports[0].TargetPort.String())
		}
	}
	return ""
}

// serveLogs starts the kubelet-like HTTPS endpoint the API server reads
// container logs from (GET /containerLogs/NAMESPACE/POD/CONTAINER with
// sinceTime, sinceSeconds, tailLines, timestamps).
func (n *Node) serveLogs() (int, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return 0, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: n.o.Name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return 0, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", n.handleLogs)
	n.logSrv = &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}}
	go func() { _ = n.logSrv.ServeTLS(l, "", "") }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (n *Node) handleLogs(w http.ResponseWriter, req *http.Request) {
	n.mu.Lock()
	buf := n.logs[req.PathValue("ns")+"/"+req.PathValue("pod")]
	n.mu.Unlock()
	if buf == nil {
		http.Error(w, "container not found", http.StatusNotFound)
		return
	}
	q := req.URL.Query()
	var since time.Time
	if s := q.Get("sinceTime"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			http.Error(w, "sinceTime: "+err.Error(), http.StatusBadRequest)
			return
		}
		since = t
	}
	if s := q.Get("sinceSeconds"); s != "" {
		secs, _ := strconv.Atoi(s)
		since = time.Now().Add(-time.Duration(secs) * time.Second)
	}
	buf.mu.Lock()
	lines := append([]logLine(nil), buf.lines...)
	buf.mu.Unlock()
	var out []logLine
	for _, l := range lines {
		if !l.t.Before(since) {
			out = append(out, l)
		}
	}
	if s := q.Get("tailLines"); s != "" {
		if t, err := strconv.Atoi(s); err == nil && t < len(out) {
			out = out[len(out)-t:]
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	bw := bufio.NewWriter(w)
	for _, l := range out {
		if q.Get("timestamps") == "true" {
			bw.WriteString(l.t.UTC().Format(time.RFC3339Nano) + " ")
		}
		bw.WriteString(l.text)
	}
	bw.Flush()
}
