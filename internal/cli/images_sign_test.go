package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/signing"
)

// writeKeyPair writes an ECDSA P-256 key pair as openssl would (PKCS #8
// private key, PKIX public key) and returns the key and the paths.
func writeKeyPair(t *testing.T, dir, name string) (*ecdsa.PrivateKey, string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pub, _ := x509.MarshalPKIXPublicKey(k.Public())
	priv, pubPath := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".pub")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		t.Fatal(err)
	}
	return k, priv, pubPath
}

// cosignSign pushes a cosign-format signature of digest in HOST/repo,
// made with key, as `cosign sign --key` would.
func cosignSign(t *testing.T, reg *imagestest.Registry, repo, digest string, key *ecdsa.PrivateKey) {
	t.Helper()
	payload, err := signing.NewPayload(reg.Host+"/"+repo, digest)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signing.SignPayload(key, payload)
	if err != nil {
		t.Fatal(err)
	}
	img, err := images.SignatureImage([]images.Sig{{Payload: payload, Signature: sig}})
	if err != nil {
		t.Fatal(err)
	}
	tag, err := images.SignatureTag(reg.Host+"/"+repo, digest)
	if err != nil {
		t.Fatal(err)
	}
	reg.PushImage(t, strings.TrimPrefix(tag.String(), reg.Host+"/"), img)
}

// TestImagesSignatureGate is the signature column of the policy matrix
// through the CLI and a real server: unsigned, wrongly signed and well
// signed images, each start allowed or refused, with its audit event.
func TestImagesSignatureGate(t *testing.T) {
	h := servertest.Start(t)
	h.User("ds", access.RoleContainerUser)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	ds := loginVars(t, h, "ds", servertest.UserPassword)
	reg := imagestest.Plain(t)
	dir := t.TempDir()
	release, releasePriv, releasePub := writeKeyPair(t, dir, "release")
	rogue, _, _ := writeKeyPair(t, dir, "rogue")
	good := reg.Push(t, "good:1")
	cosignSign(t, reg, "good", good, release)
	wrong := reg.Push(t, "wrong:1")
	cosignSign(t, reg, "wrong", wrong, rogue)
	unsigned := reg.Push(t, "unsigned:1")
	steps := []struct {
		vars map[string]string
		args []string
		code int
		want string
	}{
		{admin, []string{"images", "add", "good", "--ref", reg.Host + "/good:1"}, 0, good},
		{admin, []string{"images", "add", "wrong", "--ref", reg.Host + "/wrong:1"}, 0, wrong},
		{admin, []string{"images", "add", "unsigned", "--ref", reg.Host + "/unsigned:1"}, 0, unsigned},
		{admin, []string{"images", "policy", "set", "--require-signature"}, 0, "true"},
		{ds, []string{"containers", "start", "web", "--image", "good"}, 4, "no image signing key is trusted"},
		{admin, []string{"images", "keys", "add", "release"}, 2, "--file"},
		{admin, []string{"images", "keys", "add", "release", "--file", releasePriv}, 1, "holds a private key"},
		{ds, []string{"images", "keys", "add", "release", "--file", releasePub}, 4, "configure_mltk_container"},
		{admin, []string{"images", "keys", "add", "release", "--file", releasePub}, 0, "sha256:"},
		{ds, []string{"images", "keys", "list"}, 0, "release"},
		{ds, []string{"containers", "start", "web", "--image", "unsigned"}, 4, "no signature of its pinned digest"},
		{ds, []string{"containers", "start", "web", "--image", "wrong"}, 4, "none of its 1 signatures verifies with a trusted key (release)"},
		{ds, []string{"images", "show", "good", "-o", "json"}, 0, "allowed: signed by release"},
		{ds, []string{"images", "sign", "unsigned", "--key", releasePriv}, 4, "configure_mltk_container"},
		{admin, []string{"images", "sign", "unsigned"}, 2, "--key"},
		{admin, []string{"images", "sign", "unsigned", "--key", releasePub}, 1, "no PEM private key"},
		{admin, []string{"images", "sign", "unsigned", "--key", releasePriv}, 0, unsigned},
		{ds, []string{"images", "show", "unsigned", "-o", "json"}, 0, "allowed: signed by release"},
		{admin, []string{"images", "keys", "remove", "release", "--yes"}, 0, "release"},
		{ds, []string{"images", "show", "good", "-o", "json"}, 0, "no image signing key is trusted"},
	}
	for _, s := range steps {
		runWant(t, s.vars, "", s.code, s.want, s.args...)
	}
	all := auditBodies(t, h)
	for _, want := range [][]string{
		{`"image.add"`, `"signatures":1`, good},
		{`"image.policy.set"`, `"require_signature":true`},
		{`"image.key.add"`, "release", "sha256:"},
		{`"image.key.remove"`, "release"},
		{`"image.sign"`, unsigned},
		{`"container.start"`, `"denied"`, "no image signing key is trusted"},
		{`"container.start"`, `"denied"`, "no signature of its pinned digest"},
		{`"container.start"`, `"denied"`, "none of its 1 signatures"},
	} {
		if !hasAuditEvent(all, want...) {
			t.Errorf("no audit event with %q", want)
		}
	}
}
