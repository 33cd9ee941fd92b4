package runner

import (
	"bytes"
	"log/slog"
	"sync"
)

// lineLogger logs each line the interpreter writes to its real stdout or
// stderr (output outside the protocol, such as C extensions' messages or a
// crash) and keeps the last of it for error messages.
type lineLogger struct {
	log  *slog.Logger
	tail *tailBuffer
	mu   sync.Mutex
	buf  []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.tail.Write(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.log.Info("notebook runner output", "line", string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 64<<10 {
		l.log.Info("notebook runner output", "line", string(l.buf))
		l.buf = nil
	}
	return len(p), nil
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.log.Info("notebook runner output", "line", string(l.buf))
		l.buf = nil
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.b))
}
