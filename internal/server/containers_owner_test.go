package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/wire"
)

// ownerNotebook is the notebook each subject of the matrix pushes as "mx":
// plain Python (no pandas needed), its content marked with its owner so
// that the test can tell whose notebook a container holds.
func ownerNotebook(user string) string {
	return "# notebook of " + user + "\n" + `import json, os
def init(df, param):
    return {}
def fit(model, df, param):
    return {"rows": len(df)}
def save(model, name):
    os.makedirs(MODEL_DIRECTORY, exist_ok=True)
    with open(os.path.join(MODEL_DIRECTORY, name + ".json"), "w") as f:
        json.dump(model, f)
def load(name):
    with open(os.path.join(MODEL_DIRECTORY, name + ".json")) as f:
        return json.load(f)
def apply(model, df, param):
    try:
        import pandas as pd
        if isinstance(df, pd.DataFrame):
            return pd.DataFrame({"p": [1] * len(df)})
    except ImportError:
        pass
    return [{"p": 1} for _ in df]
def summary(model):
    return {"who": "` + user + `"}
`
}

// rawAnswer is an HTTP answer as the client got it: status, content type
// and body with the request id (which differs on every request) removed,
// and search progress frames (which carry timings) left out.
type rawAnswer struct {
	status int
	ctype  string
	body   string
}

var requestID = regexp.MustCompile(`,?\s*"request_id":\s*"[^"]*"`)

func (a rawAnswer) ok() bool {
	return a.status/100 == 2 && !strings.Contains(a.body, `{"error":`)
}

func (a rawAnswer) String() string { return fmt.Sprintf("%d %s", a.status, strings.TrimSpace(a.body)) }

type rawClient struct {
	h     *servertest.Harness
	http  *http.Client
	token string
}

func newRawClient(t *testing.T, h *servertest.Harness, token string) *rawClient {
	t.Helper()
	pem, err := os.ReadFile(h.Srv.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &rawClient{h: h, http: &http.Client{Transport: tr}, token: token}
}

func (rc *rawClient) do(t *testing.T, method, path string, body any) rawAnswer {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, rc.h.Srv.URL()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+rc.token)
	req.Header.Set("Dockyard-Protocol", wire.ProtocolVersion)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := rc.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	var keep []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasPrefix(line, `{"progress":`) {
			keep = append(keep, line)
		}
	}
	return rawAnswer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: requestID.ReplaceAllString(strings.Join(keep, ""), "")}
}

func (rc *rawClient) search(t *testing.T, spl string) rawAnswer {
	t.Helper()
	return rc.do(t, "POST", "/v1/search", wire.SearchRequest{Search: spl})
}

// verb sends one verb of the matrix for the container name.
func (rc *rawClient) verb(t *testing.T, v, name string) rawAnswer {
	t.Helper()
	path := "/v1/containers/" + url.PathEscape(name)
	switch v {
	case "fit", "placement":
		return rc.search(t, "| makeresults count=4 | streamstats count as a | eval b=a*2 | fit MLTKContainer algo=mx container="+name+" b from a into M")
	case "apply":
		return rc.search(t, "| makeresults count=3 | streamstats count as a | apply M container="+name)
	case "summary":
		return rc.search(t, "| summary M container="+name)
	case "logs":
		return rc.do(t, "GET", path+"/logs", nil)
	case "stop":
		return rc.do(t, "POST", path+"/stop", struct{}{})
	case "start":
		return rc.do(t, "POST", path+"/start", struct{}{})
	case "remove":
		return rc.do(t, "DELETE", path, nil)
	}
	t.Fatalf("unknown verb %s", v)
	return rawAnswer{}
}

// TestContainerOwnershipMatrix runs every verb on alice's container "box"
// (shared with the role analysts) as its owner, another user, a holder of
// the shared role and an administrator, through the API of a real server
// with process-runtime containers and python3. Exactly the allowed cells
// succeed; every refused answer is the answer for a container that does
// not exist (status, content type and body, but the request id). Placement
// is the fit's pushing of the caller's notebook into the container: the
// refused subjects' notebooks never reach it.
func TestContainerOwnershipMatrix(t *testing.T) {
	needPython(t)
	ctx := context.Background()
	cfg := servertest.Config(t.TempDir())
	cfg.Containers.SyncInterval = 0 // no notebook sync: the test reads what the fits placed
	h := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h)
	if _, err := h.Srv.Access().AddRole(ctx, store.Role{Name: "analysts"}); err != nil {
		t.Fatal(err)
	}
	login := func(name string, roles ...string) *rawClient {
		t.Helper()
		if _, err := h.Srv.Access().AddUser(ctx, access.NewUser{Name: name, Password: servertest.UserPassword, Roles: roles}); err != nil {
			t.Fatal(err)
		}
		res, err := h.Client("").Login(ctx, name, servertest.UserPassword)
		if err != nil {
			t.Fatal(err)
		}
		return newRawClient(t, h, res.Token)
	}
	adminToken, err := h.Srv.AdminToken(ctx, "matrix", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	subjects := []struct {
		name    string
		rc      *rawClient
		allowed string // the verbs that must succeed
	}{
		{"other", login("bob", access.RoleContainerUser), ""},
		{"role", login("carol", access.RoleContainerUser, "analysts"), "fit placement apply summary"},
		{"owner", login("alice", access.RoleContainerUser), "fit placement apply summary logs stop start remove"},
		{"admin", newRawClient(t, h, adminToken), "fit placement apply summary logs stop start remove"},
	}
	users := map[string]string{"other": "bob", "role": "carol", "owner": "alice", "admin": "admin"}
	for _, s := range subjects {
		c := h.Client(s.rc.token)
		if _, err := c.PushNotebook(ctx, "mx", "py", "", []byte(ownerNotebook(users[s.name]))); err != nil {
			t.Fatalf("%s pushes mx: %v", s.name, err)
		}
	}
	alice := h.Client(subjects[2].rc.token)
	// bob's model M, trained in his own development container, for his apply and summary.
	if a := subjects[0].rc.search(t, "| makeresults count=4 | streamstats count as a | eval b=a*2 | fit MLTKContainer algo=mx b from a into M"); !a.ok() {
		t.Fatalf("bob's fit in his development container: %v", a)
	}
	makeBox := func() {
		t.Helper()
		if _, err := alice.StartContainer(ctx, "box", wire.ContainerStart{}); err != nil {
			t.Fatalf("alice starts box: %v", err)
		}
		if _, err := alice.ShareContainer(ctx, "box", []string{"analysts"}); err != nil {
			t.Fatalf("alice shares box: %v", err)
		}
	}
	// placed reports whether the fit just sent put the notebook content nb
	// into box: a fit places the exact version it runs, content-addressed,
	// under .dockyard/pinned/ in the container's root.
	placed := func(nb string) bool {
		t.Helper()
		c, err := h.Srv.Store().GetContainer(ctx, "box", "")
		if err != nil {
			t.Fatalf("reading box's record: %v", err)
		}
		sum := sha256.Sum256([]byte(nb))
		p := filepath.Join(cfg.Data, "containers", c.RuntimeID, "root", ".dockyard", "pinned", hex.EncodeToString(sum[:])+".py")
		_, err = os.Stat(p)
		return err == nil
	}
	makeBox()

	verbs := []string{"fit", "placement", "apply", "summary", "logs", "stop", "start", "remove"}
	var table strings.Builder
	fmt.Fprintf(&table, "%-8s", "")
	for _, v := range verbs {
		fmt.Fprintf(&table, " %-9s", v)
	}
	for _, s := range subjects {
		fmt.Fprintf(&table, "\n%-8s", s.name)
		for _, v := range verbs {
			allowed := strings.Contains(" "+s.allowed+" ", " "+v+" ")
			var got rawAnswer
			var ok bool
			if v == "placement" {
				// The fit just sent placed the notebook, or did not.
				ok = placed(ownerNotebook(users[s.name]))
			} else {
				got = s.rc.verb(t, v, "box")
				ok = got.ok()
			}
			cell := map[bool]string{true: "ok", false: "refused"}[ok]
			fmt.Fprintf(&table, " %-9s", cell)
			if ok != allowed {
				t.Errorf("%s %s: succeeded %v, want %v: %v", s.name, v, ok, allowed, got)
			}
			if !allowed && v != "placement" {
				// The same request for a container that does not exist
				// (start creates a missing one: its refusal must read as
				// stop's answer for a missing one).
				missing := s.rc.verb(t, missingVerb(v), "nosuch")
				missing.body = strings.ReplaceAll(missing.body, "nosuch", "box")
				if got != missing {
					t.Errorf("%s %s box: the refusal differs from the answer for a missing container:\n refused: %v\n missing: %v", s.name, v, got, missing)
				}
				if !strings.Contains(got.body, "container not found: box") {
					t.Errorf("%s %s box = %v, want container not found: box", s.name, v, got)
				}
			}
			if allowed && (v == "stop" || v == "remove") {
				makeBox() // bring it back (stopped: started again; removed: made anew)
			}
		}
	}
	t.Logf("ownership matrix:\n%s", table.String())

	// Another user's development container is for administrators only,
	// for every verb.
	carol := subjects[1].rc
	for _, v := range verbs {
		if v == "placement" {
			continue
		}
		got := carol.verb(t, v, "alice/__dev__")
		missing := carol.verb(t, missingVerb(v), "nobody/__dev__")
		missing.body = strings.ReplaceAll(missing.body, "nobody/__dev__", "alice/__dev__")
		if got.ok() || got != missing || !strings.Contains(got.body, "container not found: alice/__dev__") {
			t.Errorf("carol %s alice/__dev__ = %v, want the missing answer %v", v, got, missing)
		}
	}

	// The listing: the role holder sees box, the other user does not.
	for user, want := range map[int]bool{0: false, 1: true} {
		cs, err := h.Client(subjects[user].rc.token).Containers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := findContainer(cs, "box"); ok != want {
			t.Errorf("%s lists box: %v, want %v (%+v)", subjects[user].name, ok, want, cs)
		}
	}
	// The model's own container (started with --model) is used without
	// container= only by those who may run code in it: carol's apply of
	// her M loads its files into alice's mbox, shared with her role; bob's
	// runs in his development container, never in mbox.
	if _, err := alice.StartContainer(ctx, "mbox", wire.ContainerStart{Model: "M"}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.ShareContainer(ctx, "mbox", []string{"analysts"}); err != nil {
		t.Fatal(err)
	}
	for i, want := range map[int]bool{0: false, 1: true} {
		res, err := h.Client(subjects[i].rc.token).SearchAll(ctx, "| makeresults count=2 | streamstats count as a | apply M", "")
		if err != nil {
			t.Fatalf("%s apply M: %v", subjects[i].name, err)
		}
		if got := hasMessage(res.Messages, "into container mbox"); got != want {
			t.Errorf("%s apply M ran in mbox: %v, want %v (messages %q)", subjects[i].name, got, want, res.Messages)
		}
	}

	all := auditActions(t, h)
	for _, want := range [][]string{
		{`"container.share"`, `"alice"`, `"success"`, `"analysts"`},
		{`"container.run"`, `"bob"`, `"denied"`, `"container:box"`},
		{`"container.stop"`, `"carol"`, `"denied"`, `"container:box"`},
		{`"container.logs"`, `"carol"`, `"denied"`, `"container:alice/__dev__"`},
	} {
		if !hasEvent(all, want...) {
			t.Errorf("no audit event with %v", want)
		}
	}
}

// missingVerb is the verb whose answer for a missing container a refusal
// of v must equal: start creates a missing container, so its refusal reads
// as stop's answer for one.
func missingVerb(v string) string {
	if v == "start" {
		return "stop"
	}
	return v
}
