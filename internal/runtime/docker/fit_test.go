package docker_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/runtime"
)

// EnvPythonImage names an agent image with python3 (built as docs/docker.md
// shows) for TestFitInDockerContainer; the test skips without it.
const EnvPythonImage = "DOCKYARD_DOCKER_TEST_IMAGE"

// A notebook placed through Spec.Files is fitted inside the container,
// and the model file it saves is listed by the agent.
func TestFitInDockerContainer(t *testing.T) {
	img := os.Getenv(EnvPythonImage)
	if img == "" {
		t.Skipf("%s is not set: name an agent image with python3 (docs/docker.md) to run a fit in Docker", EnvPythonImage)
	}
	cli := daemon(t)
	if _, err := cli.ImageInspect(context.Background(), img); err != nil {
		t.Skipf("image %s (from %s) is not on the Docker host: %v", img, EnvPythonImage, err)
	}
	nb, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "notebooks", "linear_regression.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	ca := agenttest.NewCA(t)
	rt := newRuntime(t, ca, newScope(), nil)
	ctx := ctxT(t)
	c, err := rt.Create(ctx, runtime.Spec{Name: "fit", Image: img, Labels: map[string]string{labelTestRun: runID},
		Files: map[string][]byte{"notebooks/linear_regression.ipynb": nb}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	cl := agentclient.New(c.Endpoint, c.Token, ca.Client())
	meta := json.RawMessage(`{"options":{"params":{"algo":"linear_regression"},"model_name":"M"},"feature_variables":["x1"],"target_variables":["y"]}`)
	ans, err := cl.Fit(ctx, meta, "x1,y\n1,3\n2,5\n3,7\n")
	if err != nil || ans.Status != "success" || len(ans.Files) != 1 {
		t.Fatalf("fit in the Docker container: %+v, %v", ans, err)
	}
	t.Logf("fit answered %q with model file %s", ans.Message, ans.Files[0].Path)
}
