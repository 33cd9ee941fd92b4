package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// envHECCAFile is agent.EnvHECCAFile: a PEM path on the server's machine,
// which StartWithEnv copies in and replaces by HECCAFile.
const envHECCAFile = "DOCKYARD_HEC_CA_FILE"

// maxCAFile bounds the HEC CA file copied into a container.
const maxCAFile = 1 << 20

// StartWithEnv starts the container like Start, adding env to its agent's
// environment for this run only (containers.EnvStarter): env is written,
// through the archive endpoint, to StartEnvFile (0600, owned by the image's
// user) just before the start, and the agent reads and deletes that file
// (--env-file) before anything else runs. Unlike runtime.Spec.Env it is
// therefore neither in the container's configuration (`docker inspect`)
// nor logged, so it may carry secrets. DOCKYARD_HEC_CA_FILE, a path on
// this machine, is copied in as HECCAFile and the variable points there.
//
// A container that already runs keeps the environment it was started
// with. One created without --env-file (by an older server) is started
// without env, with a warning: recreate it to give it one.
func (r *Runtime) StartWithEnv(ctx context.Context, id string, env map[string]string) error {
	in, err := r.inspect(ctx, id)
	if err != nil {
		return err
	}
	if in.State != nil && in.State.Running {
		return nil
	}
	name := in.Config.Labels[LabelName]
	if len(env) == 0 {
		return r.start(ctx, id, name)
	}
	if !hasEnvFileFlag(in.Config.Cmd) {
		r.log.Warn("the container was created without --env-file (by an older server): it starts without its start environment (trace settings, HEC token); recreate it to give it one", "id", id, "name", name)
		return r.start(ctx, id, name)
	}
	archive, err := r.startEnvArchive(name, env)
	if err != nil {
		return err
	}
	if err := r.copyIn(ctx, id, archive); err != nil {
		return r.wrap(fmt.Sprintf("container %q: writing its start environment", name), err)
	}
	if err := r.start(ctx, id, name); err != nil {
		// The agent may not have read the file: leave no secrets behind
		// for a later plain start.
		r.scrubStartEnv(ctx, id)
		return err
	}
	return nil
}

// hasEnvFileFlag reports whether the agent's arguments read StartEnvFile.
func hasEnvFileFlag(cmd []string) bool {
	for i := 0; i+1 < len(cmd); i++ {
		if (cmd[i] == "--env-file" || cmd[i] == "-env-file") && cmd[i+1] == StartEnvFile {
			return true
		}
	}
	for _, a := range cmd {
		if a == "--env-file="+StartEnvFile || a == "-env-file="+StartEnvFile {
			return true
		}
	}
	return false
}

// startEnvArchive is the tar of StartEnvFile (and HECCAFile) for env.
func (r *Runtime) startEnvArchive(name string, env map[string]string) ([]byte, error) {
	vars := make(map[string]string, len(env))
	for k, v := range env {
		vars[k] = v
	}
	var caPEM []byte
	if p := vars[envHECCAFile]; p != "" {
		b, err := readSmallFile(p, maxCAFile)
		if err != nil {
			// HEC then verifies the server against the image's roots;
			// the container still starts.
			r.log.Warn("the HEC CA file cannot be copied into the container: its notebooks get no "+envHECCAFile, "name", name, "file", p, "err", err)
			delete(vars, envHECCAFile)
		} else {
			caPEM = b
			vars[envHECCAFile] = HECCAFile
		}
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var body bytes.Buffer
	for _, k := range keys {
		v := vars[k]
		if k == "" || strings.HasPrefix(k, "#") || strings.ContainsAny(k, "= \t\r\n\x00") {
			return nil, errdefs.Invalidf("container %q: start environment variable name %q is not valid: use letters, digits and '_'", name, k)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			// Never show the value: it may be a secret.
			return nil, errdefs.Invalidf("container %q: the value of start environment variable %s holds a line break or NUL, which an env file cannot carry", name, k)
		}
		body.WriteString(k + "=" + v + "\n")
	}
	files := []tarFile{{StartEnvFile, body.Bytes(), 0o600}}
	if caPEM != nil {
		files = append(files, tarFile{HECCAFile, caPEM, 0o644})
	}
	return r.tarFiles(files)
}

// scrubStartEnv overwrites StartEnvFile with an empty one (best effort).
func (r *Runtime) scrubStartEnv(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	archive, err := r.tarFiles([]tarFile{{StartEnvFile, nil, 0o600}})
	if err == nil {
		err = r.copyIn(ctx, id, archive)
	}
	if err != nil {
		r.log.Warn("emptying the start environment file after a failed start", "id", id, "file", StartEnvFile, "err", err)
	}
}

// copyIn extracts a tar of tarFiles at the container's SecretDir (a
// volume: the root file system is read-only).
func (r *Runtime) copyIn(ctx context.Context, id string, archive []byte) error {
	_, err := r.cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: SecretDir, Content: bytes.NewReader(archive), CopyUIDGID: false}) // owners as in the tar: the agent's user
	return err
}

type tarFile struct {
	path string // absolute, in the container, under SecretDir
	b    []byte
	mode int64
}

// tarFiles is the tar of files, named relative to SecretDir and owned by
// the agent's user.
func (r *Runtime) tarFiles(files []tarFile) ([]byte, error) {
	t := r.newTar()
	for _, f := range files {
		if err := t.file(strings.TrimPrefix(f.path, SecretDir+"/"), f.b, f.mode); err != nil {
			return nil, err
		}
	}
	return t.bytes()
}

// readSmallFile reads a regular file of at most max bytes.
func readSmallFile(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", p, max)
	}
	return b, nil
}
