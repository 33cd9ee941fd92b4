package search

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestPipelineMutations runs seeded random edits of the golden searches
// (digits, options and punctuation changed) under small limits: each must
// end with rows or an error, never a panic or a hang past the time limit.
func TestPipelineMutations(t *testing.T) {
	files, _ := filepath.Glob("testdata/pipeline/*.spl")
	var seeds []string
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			seeds = append(seeds, string(b))
		}
	}
	pieces := []string{"0", "1", "9", "-1", "99999", "0.5", "*", "%", "%N", "%z", "{", "}", "[", "]", "|", ",", "\"",
		"=", "mv", "1h", "1mon", "by", "as", "null()", "_time", "x"}
	rng := rand.New(rand.NewPCG(3, 4))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		src := []byte(seeds[rng.IntN(len(seeds))])
		for edits := 1 + rng.IntN(3); edits > 0; edits-- {
			at := rng.IntN(len(src))
			switch rng.IntN(3) {
			case 0:
				src = append(src[:at], append([]byte(pieces[rng.IntN(len(pieces))]), src[at:]...)...)
			case 1:
				src = append(src[:at], src[at+1:]...)
			default:
				src[at] = "0123456789*-%,|\"[]{}"[rng.IntN(20)]
			}
			if len(src) == 0 {
				src = []byte("x")
			}
		}
		env := testEnv(t)
		env.Limits = Limits{MaxRows: 10_000, MaxTime: 5 * time.Second, MaxMemory: 8 << 20, SubsearchMaxRows: 1000, SubsearchMaxTime: time.Second}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("panic running %q: %v", src, p)
				}
			}()
			Collect(context.Background(), string(src), env)
		}()
	}
}
