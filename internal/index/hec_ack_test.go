package index

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
)

const (
	chan1 = "0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba"
	chan2 = "11111111-2222-4333-8444-555555555555"
)

type ackFixture struct {
	*hecFixture
	tokAck, tokAck2, tokPlain string
	hec                       *HEC
}

func newAckFixture(t *testing.T, opts HECOptions) *ackFixture {
	t.Helper()
	svc, _ := newService(t)
	admin := as("admin", []string{"*"}, access.CapEditIndexes)
	if _, err := svc.CreateIndex(admin, "a"); err != nil {
		t.Fatal(err)
	}
	f := &ackFixture{hecFixture: &hecFixture{svc: svc, rec: &audit.Memory{}, admin: admin}}
	mk := func(name string, ack bool) string {
		nt, err := svc.CreateHECTokenWith(admin, name, []string{"a"}, "", HECTokenOptions{UseAck: ack})
		if err != nil {
			t.Fatalf("CreateHECTokenWith(%s): %v", name, err)
		}
		if nt.UseAck != ack {
			t.Fatalf("token %s: UseAck = %v, want %v", name, nt.UseAck, ack)
		}
		return "Splunk " + nt.Token
	}
	f.tokAck, f.tokAck2, f.tokPlain = mk("acked", true), mk("acked2", true), mk("plain", false)
	opts.MaxBodyBytes = 4096
	opts.Audit = f.rec
	h, err := NewHEC(svc, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.hec = h
	mux := http.NewServeMux()
	mux.Handle("/services/collector/", h)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func TestHECAck(t *testing.T) {
	f := newAckFixture(t, HECOptions{AckMaxIDs: 3, AckChannelIdle: time.Hour})
	ch := func(c string) map[string]string { return map[string]string{"X-Splunk-Request-Channel": c} }
	const ev = `{"event":"x"}`
	// Steps run in order: ack ids depend on what came before.
	steps := []struct {
		name, path, auth, body string
		hdr                    map[string]string
		status                 int
		want                   string
	}{
		{"plain token unchanged", "/services/collector/event", f.tokPlain, ev, nil, 200, `{"text":"Success","code":0}`},
		{"plain token ignores channel", "/services/collector/event", f.tokPlain, ev, ch(chan1), 200, `{"text":"Success","code":0}`},
		{"plain token ack disabled", "/services/collector/ack", f.tokPlain, `{"acks":[0]}`, ch(chan1), 400, `{"text":"ACK is disabled","code":14}`},
		{"channel missing", "/services/collector/event", f.tokAck, ev, nil, 400, `{"text":"Data channel is missing","code":10}`},
		{"channel missing raw", "/services/collector/raw", f.tokAck, "x", nil, 400, `{"text":"Data channel is missing","code":10}`},
		{"channel invalid", "/services/collector/event", f.tokAck, ev, ch("not-a-guid"), 400, `{"text":"Invalid data channel","code":11}`},
		{"channel invalid query", "/services/collector/event?channel=1234", f.tokAck, ev, nil, 400, `{"text":"Invalid data channel","code":11}`},
		{"ack channel missing", "/services/collector/ack", f.tokAck, `{"acks":[0]}`, nil, 400, `{"text":"Data channel is missing","code":10}`},
		{"first ack id", "/services/collector/event", f.tokAck, ev, ch(chan1), 200, `{"text":"Success","code":0,"ackId":0}`},
		{"second ack id", "/services/collector/event", f.tokAck, ev + ev, ch(chan1), 200, `{"text":"Success","code":0,"ackId":1}`},
		{"raw by query channel", "/services/collector/raw?channel=" + chan1, f.tokAck, "raw", nil, 200, `{"text":"Success","code":0,"ackId":2}`},
		{"other channel starts at 0", "/services/collector/event", f.tokAck, ev, ch(chan2), 200, `{"text":"Success","code":0,"ackId":0}`},
		{"other token same channel", "/services/collector/event", f.tokAck2, ev, ch(chan1), 200, `{"text":"Success","code":0,"ackId":0}`},
		{"refused request issues no id", "/services/collector/event", f.tokAck, `{"host":"h"}`, ch(chan1), 400, `{"text":"Event field is required","code":12,"invalid-event-number":0}`},
		{"query acks", "/services/collector/ack", f.tokAck, `{"acks":[0,1,2,3,99]}`, ch(chan1), 200, `{"acks":{"0":true,"1":true,"2":true,"3":false,"99":false}}`},
		{"query by upper-case channel", "/services/collector/ack?channel=0AEEAC95-AC74-4AA9-B30D-6C4C0AC581BA", f.tokAck, `{"acks":[2]}`, nil, 200, `{"acks":{"2":true}}`},
		{"other channel cannot see", "/services/collector/ack", f.tokAck, `{"acks":[1,2]}`, ch(chan2), 200, `{"acks":{"1":false,"2":false}}`},
		{"other token cannot see", "/services/collector/ack", f.tokAck2, `{"acks":[1,2]}`, ch(chan1), 200, `{"acks":{"1":false,"2":false}}`},
		{"unknown channel", "/services/collector/ack", f.tokAck, `{"acks":[0]}`, ch("99999999-2222-4333-8444-555555555555"), 200, `{"acks":{"0":false}}`},
		{"empty query", "/services/collector/ack", f.tokAck, `{"acks":[]}`, ch(chan1), 200, `{"acks":{}}`},
		{"bad ack body", "/services/collector/ack", f.tokAck, `{"acks":[-1]}`, ch(chan1), 400, `{"text":"Invalid data format","code":6}`},
		{"ack body without acks", "/services/collector/ack", f.tokAck, `{}`, ch(chan1), 400, `{"text":"Invalid data format: send {\"acks\":[id,...]}","code":6}`},
		{"ack needs a token", "/services/collector/ack", "", `{"acks":[0]}`, ch(chan1), 401, `{"text":"Token is required","code":2}`},
		{"fourth id", "/services/collector/event", f.tokAck, ev, ch(chan1), 200, `{"text":"Success","code":0,"ackId":3}`},
		{"oldest id forgotten past AckMaxIDs", "/services/collector/ack", f.tokAck, `{"acks":[0,1,3]}`, ch(chan1), 200, `{"acks":{"0":false,"1":true,"3":true}}`},
	}
	for _, s := range steps {
		got := f.post(t, s.path, s.auth, s.body, s.hdr)
		if got.status != s.status || got.body != s.want {
			t.Errorf("%s: got %d %s, want %d %s", s.name, got.status, got.body, s.status, s.want)
		}
	}
	if n := f.hec.acks.channels(); n != 3 {
		t.Errorf("channels remembered = %d, want 3 (two of acked, one of acked2)", n)
	}
}

func TestHECAckUnconfigured(t *testing.T) {
	f := newAckFixture(t, HECOptions{})
	got := f.post(t, "/services/collector/event", f.tokAck, `{"event":"x"}`, map[string]string{"X-Splunk-Request-Channel": chan1})
	if got.status != 500 || got.body != `{"text":"Internal server error","code":8}` {
		t.Errorf("ack token without ack limits: got %d %s, want code 8", got.status, got.body)
	}
	got = f.post(t, "/services/collector/event", f.tokPlain, `{"event":"x"}`, nil)
	if got.status != 200 {
		t.Errorf("plain token: got %d %s, want 200", got.status, got.body)
	}
}

func TestAckStateIdleChannels(t *testing.T) {
	now := time.Unix(1700000000, 0)
	a := newAckState(10, 10*time.Minute, func() time.Time { return now })
	k1, k2 := ackKey{"t", chan1}, ackKey{"t", chan2}
	a.issue(k1)
	now = now.Add(6 * time.Minute)
	a.issue(k2)
	now = now.Add(5 * time.Minute) // k1 idle 11 min, k2 idle 5 min
	if got := a.query(k2, []uint64{0}); !got["0"] {
		t.Errorf("k2 id 0 = false, want true")
	}
	if got := a.query(k1, []uint64{0}); got["0"] {
		t.Errorf("k1 id 0 = true after 11 idle minutes, want forgotten")
	}
	if n := a.channels(); n != 1 {
		t.Errorf("channels = %d, want 1", n)
	}
	if id := a.issue(k1); id != 0 {
		t.Errorf("forgotten channel restarts at %d, want 0", id)
	}
}

func TestHECTokenUseAckStored(t *testing.T) {
	f := newAckFixture(t, HECOptions{AckMaxIDs: 1, AckChannelIdle: time.Minute})
	ts, err := f.svc.ListHECTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, tk := range ts {
		got[tk.Name] = tk.UseAck
	}
	if !got["acked"] || !got["acked2"] || got["plain"] {
		t.Errorf("UseAck by token = %v, want acked and acked2 true, plain false", got)
	}
}
