package access

import (
	"regexp"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// testParams are cheap argon2id parameters for tests.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashPasswordFormat(t *testing.T) {
	h, err := HashPassword("correct horse", RecommendedParams)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=1,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(h) {
		t.Fatalf("hash %q is not a PHC argon2id string with the recommended parameters", h)
	}
	h2, _ := HashPassword("correct horse", RecommendedParams)
	if h == h2 {
		t.Fatalf("two hashes of one password are equal: salt not random")
	}
}

func TestVerifyPassword(t *testing.T) {
	h, err := HashPassword("correct horse", testParams)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	parts := strings.Split(h, "$")
	flip := func(s string) string { // change the first character, keeping valid base64
		c := "A"
		if s[0] == 'A' {
			c = "B"
		}
		return c + s[1:]
	}
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct {
		name, password, hash string
		want                 bool
		wantErr              bool
	}{
		{"right", "correct horse", h, true, false},
		{"wrong", "correct horsE", h, false, false},
		{"empty", "", h, false, false},
		{"tampered hash", "correct horse", with(5, flip(parts[5])), false, false},
		{"tampered salt", "correct horse", with(4, flip(parts[4])), false, false},
		{"tampered params", "correct horse", with(3, "m=128,t=1,p=1"), false, false},
		{"other algorithm", "correct horse", with(1, "argon2i"), false, true},
		{"other version", "correct horse", with(2, "v=16"), false, true},
		{"non-canonical params", "correct horse", with(3, "m=064,t=1,p=1"), false, true},
		{"huge memory", "correct horse", with(3, "m=99999999,t=1,p=1"), false, true},
		{"bad base64", "correct horse", with(5, "!!!"), false, true},
		{"short key", "correct horse", with(5, "AAAA"), false, true},
		{"missing field", "correct horse", strings.Join(parts[:5], "$"), false, true},
		{"empty hash", "correct horse", "", false, true},
		{"bcrypt", "correct horse", "$2a$10$abcdefghijklmnopqrstuu", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := VerifyPassword(tc.password, tc.hash)
			if ok != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("VerifyPassword = %v, %v; want %v, error %v", ok, err, tc.want, tc.wantErr)
			}
			if err != nil && !errdefs.IsInvalid(err) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
		})
	}
}

func TestPasswordPolicy(t *testing.T) {
	tests := []struct {
		password string
		wantMsg  string // "" accepted
	}{
		{"", "password is empty"},
		{"1234567", "at least 8 characters"},
		{"12345678", ""},
		{"ääääääää", ""}, // 8 characters, 16 bytes
		{"äääääää", "at least 8 characters"},
		{strings.Repeat("x", MaxPasswordLen+1), "too long"},
	}
	for _, tc := range tests {
		_, err := HashPassword(tc.password, testParams)
		switch {
		case tc.wantMsg == "" && err != nil:
			t.Errorf("HashPassword(%q) = %v, want accepted", tc.password, err)
		case tc.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), tc.wantMsg) || !errdefs.IsInvalid(err)):
			t.Errorf("HashPassword(%.10q) error = %v, want ErrInvalid containing %q", tc.password, err, tc.wantMsg)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		p  Params
		ok bool
	}{
		{RecommendedParams, true},
		{testParams, true},
		{Params{Memory: 0, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{Params{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32}, false},
		{Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}, false},
		{Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8}, false},
	}
	for _, tc := range tests {
		if err := tc.p.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v.Validate() = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	h, _ := HashPassword("correct horse", testParams)
	if NeedsRehash(h, testParams) {
		t.Errorf("NeedsRehash(same params) = true")
	}
	other := testParams
	other.Time = 2
	if !NeedsRehash(h, other) {
		t.Errorf("NeedsRehash(other params) = false")
	}
	if !NeedsRehash("junk", testParams) {
		t.Errorf("NeedsRehash(junk) = false")
	}
}

// BenchmarkHashPassword measures one login's argon2id cost with the
// production parameters.
func BenchmarkHashPassword(b *testing.B) {
	h, _ := HashPassword("correct horse", RecommendedParams)
	for b.Loop() {
		if ok, _ := VerifyPassword("correct horse", h); !ok {
			b.Fatal("no match")
		}
	}
}
