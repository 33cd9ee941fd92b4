package kube

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// podWatch is an informer on the runtime's Pods (its labels, its
// namespace) that wakes Start and Stop when a Pod changes (scheduled,
// running, ready, stopped), so that they wait on events rather than
// polling the API server. It starts with the first wait and stops at
// Close. Reads still go to the API server: a container's state is read
// fresh, never from a cache that may lag a write.
type podWatch struct {
	once    sync.Once
	stop    chan struct{}
	mu      sync.Mutex
	waiters map[chan struct{}]bool
}

// podChanged returns a channel that receives when one of the runtime's
// Pods changes, and the function that stops it.
func (r *Runtime) podChanged() (<-chan struct{}, func()) {
	w := &r.watch
	w.once.Do(func() {
		w.stop = make(chan struct{})
		lw := cache.NewFilteredListWatchFromClient(r.cs.CoreV1().RESTClient(), "pods", r.cfg.Namespace,
			func(o *metav1.ListOptions) { o.LabelSelector = r.selector(nil) })
		inf := cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, cache.Indexers{})
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { w.wake() },
			UpdateFunc: func(any, any) { w.wake() },
			DeleteFunc: func(any) { w.wake() },
		})
		go inf.Run(w.stop)
	})
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.waiters == nil {
		w.waiters = map[chan struct{}]bool{}
	}
	w.waiters[ch] = true
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(w.waiters, ch)
		w.mu.Unlock()
	}
}

func (w *podWatch) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// close stops the informer, if it runs.
func (w *podWatch) close() {
	w.once.Do(func() {}) // no informer is started after Close
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		select {
		case <-w.stop:
		default:
			close(w.stop)
		}
	}
}

// pollEvery bounds a wait between Pod events: the agent's /healthz is
// asked again after it even when no Pod changed.
const pollEvery = time.Second
