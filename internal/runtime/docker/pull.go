package docker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

var _ runtime.ImagePuller = (*Runtime)(nil)

// PullImage makes ref present on the Docker host, pulling it with auth
// (nil: anonymously) when it is not. The credentials travel to the daemon
// in the request's X-Registry-Auth header only; they are never logged. The
// daemon verifies the registry with its own CAs (/etc/docker/certs.d/HOST/
// on the Docker host; loopback registries are insecure by default).
func (r *Runtime) PullImage(ctx context.Context, ref string, auth *runtime.RegistryAuth) error {
	if _, err := r.cli.ImageInspect(ctx, ref); err == nil {
		return nil
	}
	opts := client.ImagePullOptions{}
	if auth != nil {
		b, err := json.Marshal(registry.AuthConfig{Username: auth.Username, Password: auth.Password, ServerAddress: auth.Server})
		if err != nil {
			return err
		}
		opts.RegistryAuth = base64.URLEncoding.EncodeToString(b)
	}
	r.log.Info("pulling an image", "ref", ref, "authenticated", auth != nil)
	res, err := r.cli.ImagePull(ctx, ref, opts)
	if err == nil {
		err = res.Wait(ctx)
		res.Close()
	}
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "unauthorized") || strings.Contains(msg, "authentication required") || strings.Contains(msg, "denied") {
			return errdefs.Invalidf("pulling %s: the registry refused the credentials (%w): an administrator logs in with `dockyard registries login HOST --user USER --password-stdin`", ref, err)
		}
		return r.wrap(fmt.Sprintf("pulling %s", ref), err)
	}
	if _, err := r.cli.ImageInspect(ctx, ref); err != nil {
		return r.wrap(fmt.Sprintf("image %s after its pull", ref), err)
	}
	return nil
}
