package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestHECAckTokenRoundTrip creates a token with --ack through the CLI and
// API, lists it, and sends events on a channel.
func TestHECAckTokenRoundTrip(t *testing.T) {
	h := servertest.Start(t)
	admin := adminToken(t, h)
	if _, e, code := cliRun(t, h, admin, "indexes", "create", "web"); code != 0 {
		t.Fatalf("indexes create: %s", e)
	}
	out, e, code := cliRun(t, h, admin, "hec", "tokens", "create", "acked", "--index", "web", "--ack", "-o", "json")
	var nt wire.NewHECToken
	if code != 0 || json.Unmarshal([]byte(out), &nt) != nil || !nt.UseAck || nt.Token == "" {
		t.Fatalf("hec tokens create --ack: %d %q %s", code, out, e)
	}
	out, _, code = cliRun(t, h, admin, "hec", "tokens", "list", "-o", "json")
	var ts []wire.HECToken
	if code != 0 || json.Unmarshal([]byte(out), &ts) != nil || len(ts) != 1 || !ts[0].UseAck {
		t.Fatalf("hec tokens list: %q", out)
	}

	if status, rep := hecPost(t, h, "/services/collector/event", nt.Token, `{"event":"x"}`); status != 400 || rep.Code != index.HECChannelMissing {
		t.Fatalf("event without a channel: %d %+v, want code 10", status, rep)
	}
	const ch = "0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba"
	status, rep := hecPost(t, h, "/services/collector/event?channel="+ch, nt.Token, `{"event":"x"}`)
	if status != 200 || rep.AckID == nil || *rep.AckID != 0 {
		t.Fatalf("event on a channel: %d %+v, want ackId 0", status, rep)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(t, h)}}
	req, _ := http.NewRequest("POST", h.Srv.URL()+"/services/collector/ack?channel="+ch, strings.NewReader(`{"acks":[0,1]}`))
	req.Header.Set("Authorization", "Splunk "+nt.Token)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var acks index.HECAckReply
	if err := json.NewDecoder(resp.Body).Decode(&acks); err != nil || resp.StatusCode != 200 || !acks.Acks["0"] || acks.Acks["1"] {
		t.Fatalf("ack query: %d %+v %v, want 0 true and 1 false", resp.StatusCode, acks, err)
	}
}
