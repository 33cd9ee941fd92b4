package docker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/moby/moby/client"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// SaveImage writes the image ref names (an id or a tag) as `docker save`
// does.
func (r *Runtime) SaveImage(ctx context.Context, ref string) (io.ReadCloser, error) {
	rc, err := r.cli.ImageSave(ctx, []string{ref})
	if err != nil {
		return nil, r.wrap(fmt.Sprintf("saving image %s", ref), err)
	}
	return rc, nil
}

// LoadImage loads a `docker save` archive (manifest.json and its blobs)
// into the engine. An error the daemon reports in its progress stream is
// returned.
func (r *Runtime) LoadImage(ctx context.Context, rd io.Reader) error {
	res, err := r.cli.ImageLoad(ctx, rd, client.ImageLoadWithQuiet(true))
	if err != nil {
		return r.wrap("loading an image", err)
	}
	defer res.Close()
	sc := bufio.NewScanner(res)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m struct {
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if json.Unmarshal(sc.Bytes(), &m) == nil && (m.Error != "" || m.ErrorDetail != nil) {
			msg := m.Error
			if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
				msg = m.ErrorDetail.Message
			}
			return errdefs.Invalidf("the Docker Engine refused the image: %s", msg)
		}
	}
	return sc.Err()
}
