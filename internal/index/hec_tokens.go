package index

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// HECToken is an HTTP Event Collector token as the API shows it: never the
// secret, only its last four characters.
type HECToken struct {
	Name         string    `json:"name"`
	Last4        string    `json:"last4"`
	Indexes      []string  `json:"indexes"`
	DefaultIndex string    `json:"default_index"`
	Disabled     bool      `json:"disabled"`
	Creator      string    `json:"creator"`
	Created      time.Time `json:"created"`
	UseAck       bool      `json:"use_ack"`
}

// NewHECToken is the answer to CreateHECToken: the only time the secret
// is shown.
type NewHECToken struct {
	Name         string   `json:"name"`
	Token        string   `json:"token"`
	Indexes      []string `json:"indexes"`
	DefaultIndex string   `json:"default_index"`
	UseAck       bool     `json:"use_ack"`
}

// HECTokenOptions are a token's settings beyond its indexes.
type HECTokenOptions struct {
	// UseAck turns on indexer acknowledgement: requests must name a
	// channel and successes carry an ackId (see HEC).
	UseAck bool
}

var hecNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// HashHECToken returns the stored form of a token secret: hex SHA-256.
func HashHECToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// newSecret returns a random token in the GUID form Splunk's tokens have
// (122 random bits).
func newSecret() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// CreateHECToken creates a token that may write to indexes ("*": every
// index but _internal) and returns its secret, which is shown only here.
// defaultIndex ("" for the first of indexes) receives events that name
// no index. _internal is never writable through HEC. The caller's
// capability (edit_hec_token) is checked by the API layer; the creator is
// the caller in ctx.
func (s *Service) CreateHECToken(ctx context.Context, name string, indexes []string, defaultIndex string) (NewHECToken, error) {
	return s.CreateHECTokenWith(ctx, name, indexes, defaultIndex, HECTokenOptions{})
}

// CreateHECTokenWith is CreateHECToken with the token's options.
func (s *Service) CreateHECTokenWith(ctx context.Context, name string, indexes []string, defaultIndex string, opts HECTokenOptions) (NewHECToken, error) {
	if !hecNameRE.MatchString(name) {
		return NewHECToken{}, errdefs.Invalidf("HEC token name %q is not valid: use 1-64 letters, digits, '_', '.' or '-'", name)
	}
	if len(indexes) == 0 {
		return NewHECToken{}, errdefs.Invalid("a HEC token needs at least one index: name them with --index")
	}
	all, err := s.st.ListIndexes(ctx)
	if err != nil {
		return NewHECToken{}, err
	}
	exists := func(n string) bool {
		return slices.ContainsFunc(all, func(ix store.IndexInfo) bool { return ix.Name == n })
	}
	var ixs []string
	for _, ix := range indexes {
		switch {
		case ix == Internal:
			return NewHECToken{}, errdefs.Invalid("index _internal holds the audit trail and cannot be written through HEC")
		case ix != "*" && !exists(ix):
			return NewHECToken{}, errdefs.NotFoundf("index %q not found: create it first", ix)
		}
		if !slices.Contains(ixs, ix) {
			ixs = append(ixs, ix)
		}
	}
	if defaultIndex == "" {
		defaultIndex = ixs[0]
		if defaultIndex == "*" {
			defaultIndex = Main
		}
	}
	if !tokenAllows(ixs, defaultIndex) {
		return NewHECToken{}, errdefs.Invalidf("default index %q is not one of the token's indexes %v", defaultIndex, ixs)
	}
	secret := newSecret()
	creator := ""
	if p := access.FromContext(ctx); p != nil {
		creator = p.User
	}
	t := store.HECToken{Name: name, Hash: HashHECToken(secret), Last4: secret[len(secret)-4:], Indexes: ixs,
		DefaultIndex: defaultIndex, Creator: creator, Created: s.now().UTC(), UseAck: opts.UseAck}
	if err := s.st.CreateHECToken(ctx, t); err != nil {
		return NewHECToken{}, err
	}
	return NewHECToken{Name: name, Token: secret, Indexes: ixs, DefaultIndex: defaultIndex, UseAck: opts.UseAck}, nil
}

// tokenAllows reports whether a token with these indexes may write to ix.
func tokenAllows(indexes []string, ix string) bool {
	if ix == Internal {
		return false
	}
	return slices.Contains(indexes, ix) || slices.Contains(indexes, "*")
}

func toHECToken(t store.HECToken) HECToken {
	return HECToken{Name: t.Name, Last4: t.Last4, Indexes: t.Indexes, DefaultIndex: t.DefaultIndex,
		Disabled: t.Disabled, Creator: t.Creator, Created: t.Created, UseAck: t.UseAck}
}

// ListHECTokens returns every token without its secret.
func (s *Service) ListHECTokens(ctx context.Context) ([]HECToken, error) {
	l, err := s.st.ListHECTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]HECToken, 0, len(l))
	for _, t := range l {
		out = append(out, toHECToken(t))
	}
	return out, nil
}

// SetHECTokenDisabled disables (HEC answers code 1) or re-enables a token.
func (s *Service) SetHECTokenDisabled(ctx context.Context, name string, disabled bool) error {
	return s.st.SetHECTokenDisabled(ctx, name, disabled)
}

// DeleteHECToken deletes a token; its secret stops working at once.
func (s *Service) DeleteHECToken(ctx context.Context, name string) error {
	return s.st.DeleteHECToken(ctx, name)
}

// authenticateHEC returns the token whose secret is secret, or ErrNotFound.
func (s *Service) authenticateHEC(ctx context.Context, secret string) (store.HECToken, error) {
	return s.st.GetHECTokenByHash(ctx, HashHECToken(secret))
}
