package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Params are the argon2id cost parameters for new password hashes. Hashes
// carry their own parameters, so changing Params only affects passwords set
// (or re-hashed at login) afterwards.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// RecommendedParams are the production parameters: 64 MiB, 1 pass,
// 2 lanes, above OWASP's argon2id minimum (m=46 MiB, t=1, p=1).
// internal/config carries them as its default; tests use cheaper ones.
var RecommendedParams = Params{Memory: 64 * 1024, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}

// Limits on parameters read back from stored hashes, so that a tampered
// hash cannot make a login allocate unbounded memory or spin forever.
const (
	maxMemory  = 4 * 1024 * 1024 // 4 GiB in KiB
	maxTime    = 100
	maxKeyLen  = 1024
	maxSaltLen = 1024

	// MinPasswordLen is the shortest password accepted, in characters.
	MinPasswordLen = 8
	// MaxPasswordLen is the longest password accepted, in bytes.
	MaxPasswordLen = 1024
)

// Validate reports whether p is usable.
func (p Params) Validate() error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return errdefs.Invalidf("argon2id memory %d KiB must be between 8 KiB per thread and %d KiB", p.Memory, maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return errdefs.Invalidf("argon2id time %d must be between 1 and %d", p.Time, maxTime)
	case p.Threads < 1:
		return errdefs.Invalid("argon2id threads must be at least 1")
	case p.SaltLen < 8 || p.SaltLen > maxSaltLen:
		return errdefs.Invalidf("argon2id salt length %d must be between 8 and %d bytes", p.SaltLen, maxSaltLen)
	case p.KeyLen < 16 || p.KeyLen > maxKeyLen:
		return errdefs.Invalidf("argon2id key length %d must be between 16 and %d bytes", p.KeyLen, maxKeyLen)
	}
	return nil
}

// CheckPasswordPolicy reports whether password is acceptable as a new
// password: at least MinPasswordLen characters, at most MaxPasswordLen bytes.
func CheckPasswordPolicy(password string) error {
	switch {
	case password == "":
		return errdefs.Invalid("password is empty: choose one of at least 8 characters")
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return errdefs.Invalidf("password is too short: use at least %d characters", MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return errdefs.Invalidf("password is too long: use at most %d bytes", MaxPasswordLen)
	}
	return nil
}

var b64 = base64.RawStdEncoding

// HashPassword checks password against the policy and returns its argon2id
// hash in PHC string format:
// $argon2id$v=19$m=65536,t=1,p=2$<salt>$<hash> (unpadded standard base64).
func HashPassword(password string, p Params) (string, error) {
	if err := CheckPasswordPolicy(password); err != nil {
		return "", err
	}
	return hashPassword(password, p)
}

func hashPassword(password string, p Params) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// phc is a parsed argon2id PHC string.
type phc struct {
	params    Params
	salt, key []byte
}

func parsePHC(s string) (phc, error) {
	bad := func(why string) (phc, error) {
		return phc{}, errdefs.Invalid("stored password hash is not a valid argon2id PHC string: " + why)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("wrong number of fields")
	}
	if parts[1] != "argon2id" {
		return bad(fmt.Sprintf("algorithm %q", parts[1]))
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return bad("version")
	}
	var h phc
	var m, t, p uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", m, t, p) != parts[3] || p > 255 {
		return bad("parameters")
	}
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil {
		return bad("salt")
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil {
		return bad("hash")
	}
	h.params = Params{Memory: m, Time: t, Threads: uint8(p), SaltLen: uint32(len(h.salt)), KeyLen: uint32(len(h.key))}
	if err := h.params.Validate(); err != nil {
		return bad(err.Error())
	}
	return h, nil
}

// VerifyPassword reports whether password matches the PHC string hash,
// comparing in constant time. A malformed hash is an error (ErrInvalid),
// never a match.
func VerifyPassword(password, hash string) (bool, error) {
	h, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// NeedsRehash reports whether hash was made with parameters other than p
// (or cannot be parsed), so that a successful login should re-hash it.
func NeedsRehash(hash string, p Params) bool {
	h, err := parsePHC(hash)
	if err != nil {
		return true
	}
	return h.params != p
}
