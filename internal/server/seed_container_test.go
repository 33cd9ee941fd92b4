package server_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// seedStandIn is a container of the seed system as its API is documented
// (docs/containers.md): POST /fit and POST /apply take {"data": "<CSV>",
// "meta": {...}} and answer {"status", "message", "results": "<CSV>"};
// GET /summary answers, JSON-encoded once more as a string, the summary of
// the model loaded last; every other path is FastAPI's 404 {"detail":
// "Not Found"}. Its one notebook, linreg_seed, fits y = a*x + b by least
// squares (first target on first feature) and saves the model under
// <algo>_<model_name>.
type seedStandIn struct {
	token string

	mu     sync.Mutex
	models map[string][2]float64
	loaded string
	other  []string // requests to paths the seed's API does not have
	calls  []string
}

type seedMeta struct {
	Options struct {
		Params    map[string]string `json:"params"`
		ModelName string            `json:"model_name"`
	} `json:"options"`
	Features []string `json:"feature_variables"`
	Targets  []string `json:"target_variables"`
}

func (s *seedStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"detail":"Unauthorized"}`))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	switch {
	case r.Method == "POST" && (r.URL.Path == "/fit" || r.URL.Path == "/apply"):
		json.NewEncoder(w).Encode(s.fitApply(r))
	case r.Method == "GET" && r.URL.Path == "/summary":
		doc := map[string]any{"app": "Deep Learning Toolkit for Splunk", "version": "5.0.0", "model": "no model exists"}
		if m, ok := s.models[s.loaded]; ok {
			doc["model"] = s.loaded
			doc["model_summary"] = map[string]any{"a": m[0], "b": m[1]}
		}
		b, _ := json.Marshal(doc)
		json.NewEncoder(w).Encode(string(b))
	default:
		s.other = append(s.other, r.Method+" "+r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"detail":"Not Found"}`))
	}
}

func (s *seedStandIn) fitApply(r *http.Request) map[string]string {
	op := strings.TrimPrefix(r.URL.Path, "/")
	fail := func(msg string) map[string]string {
		return map[string]string{"status": "error", "message": "/" + op + ": ERROR: " + msg}
	}
	var req struct {
		Data string   `json:"data"`
		Meta seedMeta `json:"meta"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return fail("unable to parse json from POST data: " + err.Error())
	}
	m := req.Meta
	if m.Options.Params["algo"] != "linreg_seed" {
		return fail("unable to load algo code from module " + m.Options.Params["algo"])
	}
	recs, err := csv.NewReader(strings.NewReader(req.Data)).ReadAll()
	if err != nil || len(recs) < 2 || len(m.Features) == 0 {
		return fail(fmt.Sprintf("unable to convert raw data to pandas dataframe: %v", err))
	}
	col := func(name string) []float64 {
		i := indexOfString(recs[0], name)
		var out []float64
		for _, rec := range recs[1:] {
			v, _ := strconv.ParseFloat(rec[i], 64)
			out = append(out, v)
		}
		return out
	}
	name := "linreg_seed_" + m.Options.ModelName
	xs := col(m.Features[0])
	if op == "fit" {
		if len(m.Targets) == 0 {
			return fail("unable to fit model: no target")
		}
		ys := col(m.Targets[0])
		var sx, sy, sxx, sxy float64
		n := float64(len(xs))
		for i := range xs {
			sx, sy, sxx, sxy = sx+xs[i], sy+ys[i], sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
		}
		a := (n*sxy - sx*sy) / (n*sxx - sx*sx)
		s.models[name] = [2]float64{a, (sy - a*sx) / n}
	}
	model, ok := s.models[name]
	if !ok {
		return fail("unable to initialize module: no model " + name)
	}
	s.loaded = name
	var sb strings.Builder
	sb.WriteString("prediction\n")
	for _, x := range xs {
		fmt.Fprintf(&sb, "%g\n", model[0]*x+model[1])
	}
	return map[string]string{"status": "success", "message": "/" + op + " done successfully", "results": sb.String()}
}

func indexOfString(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return 0
}

// TestSeedContainerFitApplySummary registers a stand-in of the seed's own
// container and runs fit, apply and summary through search on a real
// server: Dockyard finds that it speaks only the seed's API, places no
// notebook and syncs no files there, and sends apply and summary of the
// version back to it.
func TestSeedContainerFitApplySummary(t *testing.T) {
	ctx := context.Background()
	stand := &seedStandIn{token: "seed-container-token-0123456789", models: map[string][2]float64{}}
	ts := httptest.NewTLSServer(stand)
	defer ts.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})

	h := servertest.Start(t)
	carol := h.User("carol", access.RoleContainerAdmin)
	if _, err := carol.RegisterContainer(ctx, "dsdl", wire.ContainerRegister{URL: ts.URL, Token: stand.token, CAPEM: string(caPEM)}); err != nil {
		t.Fatalf("register: %v", err)
	}
	for name, body := range map[string]string{"d1.csv": linearCSV(2, 1, 20), "x.csv": "x\n10\n100\n"} {
		if _, err := carol.UploadLookup(ctx, name, strings.NewReader(body)); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}
	}

	res := mlSearch(t, carol, "| inputlookup d1.csv | fit MLTKContainer algo=linreg_seed container=dsdl y from x into seedm")
	if len(res.Results) != 21 {
		t.Fatalf("fit returned %d rows, want 21", len(res.Results))
	}
	if got := num(t, res.Results[4], "predicted_y"); math.Abs(got-11) > 1e-9 {
		t.Errorf("fit: predicted_y for x=5 = %v, want 11", got)
	}
	if !hasMessage(res.Messages, "container dsdl speaks only the seed's container API", "placed no notebook", "syncs no model files") {
		t.Errorf("the fit does not say it skipped placement and sync: %q", res.Messages)
	}
	if !hasMessage(res.Messages, "registered seedm version 1") {
		t.Errorf("no registration message: %q", res.Messages)
	}
	sum := kvOf(mlSearch(t, carol, "| summary seedm"))
	if sum["container"] != "dsdl" || sum["notebook"] != "linreg_seed" || sum["notebook_pinned"] != "" {
		t.Errorf("lineage: container %q notebook %q pinned %q; want dsdl, linreg_seed, not pinned: %v", sum["container"], sum["notebook"], sum["notebook_pinned"], sum)
	}

	// apply goes back to the container the version lives in (no container=).
	app := mlSearch(t, carol, "| inputlookup x.csv | apply seedm")
	if len(app.Results) != 2 {
		t.Fatalf("apply returned %d rows, want 2", len(app.Results))
	}
	for i, want := range []float64{21, 201} {
		if got := num(t, app.Results[i], "predicted_y"); math.Abs(got-want) > 1e-9 {
			t.Errorf("apply row %d: predicted_y = %v, want %v", i+1, got, want)
		}
	}
	sres := mlSearch(t, carol, "| summary seedm")
	sum = kvOf(sres)
	if sum["notebook.model"] != "linreg_seed_seedm" || sum["notebook.model_summary.a"] != "2" || sum["notebook.app"] == "" {
		t.Errorf("the container's summary: model %q a %q app %q: %v", sum["notebook.model"], sum["notebook.model_summary.a"], sum["notebook.app"], sum)
	}
	if !hasMessage(sres.Messages, "speaks only the seed's container API") {
		t.Errorf("summary messages: %q", sres.Messages)
	}

	// A version whose files Dockyard holds cannot go to a seed container.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.json"), []byte(`{"a": 2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := carol.ImportModelDir(ctx, "heldm", dir, "linreg_seed"); err != nil {
		t.Fatalf("import: %v", err)
	}
	_, err := carol.SearchAll(ctx, "| inputlookup x.csv | apply heldm container=dsdl", "")
	if err == nil || !strings.Contains(err.Error(), "speaks only the seed's container API, which has no way to receive the files of model heldm") {
		t.Errorf("apply of a Dockyard-held version in the seed container: %v", err)
	}

	// The stand-in checks the bearer token: a wrong one is refused, and the
	// fit says so.
	if _, err := carol.RegisterContainer(ctx, "dsdl-wrong", wire.ContainerRegister{URL: ts.URL, Token: "not-the-token", CAPEM: string(caPEM)}); err != nil {
		t.Fatalf("register: %v", err)
	}
	_, err = carol.SearchAll(ctx, "| inputlookup d1.csv | fit MLTKContainer algo=linreg_seed container=dsdl-wrong y from x into other", "")
	if err == nil || !strings.Contains(err.Error(), "container dsdl-wrong") || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("fit with a wrong token: %v, want the container's refusal", err)
	}

	stand.mu.Lock()
	defer stand.mu.Unlock()
	for _, c := range stand.other {
		if c != "GET /v1/info" {
			t.Errorf("Dockyard asked the seed container for %s, which the seed's API does not have", c)
		}
	}
	for _, want := range []string{"POST /fit", "POST /apply", "GET /summary"} {
		if !slices.Contains(stand.calls, want) {
			t.Errorf("the seed container got no %s: %v", want, stand.calls)
		}
	}
}
