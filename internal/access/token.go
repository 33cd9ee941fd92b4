package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// Token secret prefixes: they tell a leaked secret's kind at a glance and
// let secret scanners find them.
const (
	SessionPrefix = "dys_"
	APIPrefix     = "dyt_"
)

const (
	secretBytes  = 32 // random bytes in a secret
	tokenIDBytes = 8  // random bytes in a public token id
)

var b64url = base64.RawURLEncoding

// secretLen is the length of a whole secret, prefix included.
var secretLen = len(SessionPrefix) + b64url.EncodedLen(secretBytes)

// prefixFor returns the secret prefix of a token kind.
func prefixFor(kind string) (string, error) {
	switch kind {
	case store.TokenSession:
		return SessionPrefix, nil
	case store.TokenAPI:
		return APIPrefix, nil
	}
	return "", fmt.Errorf("unknown token kind %q", kind)
}

// NewSecret returns a new random secret of the given kind (prefix plus 32
// bytes from crypto/rand in unpadded base64url), its hash as stored, and a
// new public token id.
func NewSecret(kind string) (secret, hash, id string, err error) {
	prefix, err := prefixFor(kind)
	if err != nil {
		return "", "", "", err
	}
	buf := make([]byte, secretBytes+tokenIDBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", "", "", fmt.Errorf("token secret: %w", err)
	}
	secret = prefix + b64url.EncodeToString(buf[:secretBytes])
	return secret, HashSecret(secret), hex.EncodeToString(buf[secretBytes:]), nil
}

// HashSecret returns the hex SHA-256 of secret, the form tokens are stored
// and looked up in.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// wellFormedSecret reports whether s looks like a secret Dockyard issued,
// so that junk is refused before the store is asked.
func wellFormedSecret(s string) bool {
	if len(s) != secretLen || !strings.HasPrefix(s, SessionPrefix) && !strings.HasPrefix(s, APIPrefix) {
		return false
	}
	_, err := b64url.DecodeString(s[len(SessionPrefix):])
	return err == nil
}

// secretMatches compares the hash of secret with a stored hash in constant
// time, and checks that the secret's prefix matches the token's kind.
func secretMatches(secret string, t store.Token) bool {
	prefix, err := prefixFor(t.Kind)
	if err != nil || !strings.HasPrefix(secret, prefix) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(t.Hash)) == 1
}

// touchEvery is how often a token's last-used time is written at most.
const touchEvery = time.Minute

var errBadToken = errdefs.Unauthenticated("invalid token: log in again or use a valid API token")

// Authenticate turns a bearer secret into the Principal of its user in app
// (the user's default app when empty). Unknown, malformed, revoked and
// expired tokens are ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, secret, app string) (*Principal, error) {
	if !wellFormedSecret(secret) {
		return nil, errBadToken
	}
	if app != "" {
		if err := ValidateApp(app); err != nil {
			return nil, errdefs.Invalidf("%w (from the Dockyard-App header or --app)", err)
		}
	}
	t, err := s.st.GetTokenByHash(ctx, HashSecret(secret))
	if errdefs.IsNotFound(err) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if !secretMatches(secret, t) {
		return nil, errBadToken
	}
	now := s.utcNow()
	if t.Revoked {
		return nil, errdefs.Unauthenticated("token has been revoked: log in again or create a new API token")
	}
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return nil, errdefs.Unauthenticated("token has expired: log in again or create a new API token")
	}
	p, err := s.EffectivePrincipal(ctx, t.User, app)
	if IsAppNotFound(err) {
		return nil, err
	}
	if errdefs.IsNotFound(err) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	p.TokenID = t.ID
	if now.Sub(t.LastUsed) >= touchEvery {
		if err := s.st.TouchToken(ctx, t.ID, now); err != nil {
			s.log.Warn("recording token use failed", "token_id", t.ID, "err", err)
		}
	}
	return p, nil
}

// Logout revokes the session token that authenticated p. API tokens are
// not ended by logout: revoke them with RevokeToken.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	if p == nil || p.TokenID == "" {
		return errdefs.Invalid("logout needs a request authenticated by a session token")
	}
	t, err := s.st.GetToken(ctx, p.TokenID)
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if t.Kind != store.TokenSession {
		return errdefs.Invalidf("logout ends a session, but this request used API token %q: revoke it with \"dockyard tokens revoke\"", t.ID)
	}
	if err := s.st.RevokeToken(ctx, t.ID); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	s.log.Info("logout", "user", t.User, "token_id", t.ID)
	return nil
}

// CreateAPIToken creates an API token for p's user, named name, expiring
// after ttl. ttl 0 means the longest allowed (Options.APITokenMaxTTL), or
// never when there is no limit; a ttl above the limit is refused. It needs
// edit_tokens_own. The secret is returned once and never again.
func (s *Service) CreateAPIToken(ctx context.Context, p *Principal, name string, ttl time.Duration) (string, store.Token, error) {
	if !p.Can(CapEditOwnTokens) && !p.Can(CapEditAllTokens) {
		return "", store.Token{}, errdefs.PermissionDenied("creating API tokens needs the edit_tokens_own capability")
	}
	if err := checkTokenName(name); err != nil {
		return "", store.Token{}, err
	}
	if ttl < 0 {
		return "", store.Token{}, errdefs.Invalidf("token lifetime %v is negative: give a positive duration", ttl)
	}
	ttl, err := s.boundByCreator(ctx, p, ttl)
	if err != nil {
		return "", store.Token{}, err
	}
	if max := s.opts.APITokenMaxTTL; max > 0 {
		if ttl > max {
			return "", store.Token{}, errdefs.Invalidf("token lifetime %v is longer than the allowed %v: choose a shorter expiry", ttl, max)
		}
		if ttl == 0 {
			ttl = max
		}
	}
	secret, t, err := s.newToken(ctx, p.User, store.TokenAPI, name, ttl)
	if err != nil {
		return "", store.Token{}, fmt.Errorf("create API token %q: %w", name, err)
	}
	s.log.Info("created API token", "user", p.User, "token_id", t.ID, "name", name)
	return secret, t, nil
}

// boundByCreator keeps a token created with an API token from outliving
// it, so that a stolen short-lived token cannot mint itself a long one. A
// login session may create tokens up to the configured maximum.
func (s *Service) boundByCreator(ctx context.Context, p *Principal, ttl time.Duration) (time.Duration, error) {
	if p.TokenID == "" {
		return ttl, nil
	}
	creator, err := s.st.GetToken(ctx, p.TokenID)
	if errdefs.IsNotFound(err) {
		return ttl, nil // minted in-process, not through a token
	}
	if err != nil {
		return 0, fmt.Errorf("create API token: %w", err)
	}
	if creator.Kind != store.TokenAPI || creator.Expires.IsZero() {
		return ttl, nil
	}
	left := creator.Expires.Sub(s.utcNow()).Truncate(time.Second)
	switch {
	case left <= 0:
		return 0, errdefs.Unauthenticated("token has expired: log in again or create a new API token")
	case ttl == 0:
		return left, nil
	case ttl > left:
		return 0, errdefs.Invalidf("token lifetime %v is longer than the %v left to the API token making the request: choose a shorter expiry, or log in and create it from a session", ttl, left)
	}
	return ttl, nil
}

func checkTokenName(name string) error {
	if name == "" || len(name) > 64 {
		return errdefs.Invalid("token name must be 1 to 64 characters")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return errdefs.Invalidf("token name %q has a non-printable character", name)
		}
	}
	return nil
}

// ListTokens lists the tokens of user ("" for p's own, "*" for everybody's),
// without their hashes. Other users' tokens need edit_tokens_all.
func (s *Service) ListTokens(ctx context.Context, p *Principal, user string) ([]store.Token, error) {
	if p == nil {
		return nil, errdefs.Unauthenticated("listing tokens needs an authenticated user")
	}
	if user == "" {
		user = p.User
	}
	if user != p.User && !p.Can(CapEditAllTokens) {
		return nil, errdefs.PermissionDenied("listing other users' tokens needs the edit_tokens_all capability")
	}
	if user == "*" {
		user = ""
	}
	list, err := s.st.ListTokens(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	for i := range list {
		list[i].Hash = ""
	}
	return list, nil
}

// RevokeToken revokes the token with public id id: p's own with
// edit_tokens_own, anybody's with edit_tokens_all. A token p may not revoke
// is reported as not found, like one that does not exist.
func (s *Service) RevokeToken(ctx context.Context, p *Principal, id string) error {
	notFound := errdefs.NotFoundf("token %q not found", id)
	t, err := s.st.GetToken(ctx, id)
	if errdefs.IsNotFound(err) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	own := p != nil && t.User == p.User
	switch {
	case p.Can(CapEditAllTokens):
	case own && p.Can(CapEditOwnTokens):
	case own:
		return errdefs.PermissionDenied("revoking your tokens needs the edit_tokens_own capability")
	default:
		return notFound
	}
	if err := s.st.RevokeToken(ctx, id); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	s.log.Info("revoked token", "by", p.User, "user", t.User, "token_id", id)
	return nil
}

// PruneTokens deletes the tokens that have expired and returns how many.
func (s *Service) PruneTokens(ctx context.Context) (int, error) {
	return s.st.DeleteExpiredTokens(ctx, s.utcNow())
}
