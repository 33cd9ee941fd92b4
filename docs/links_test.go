// Package docs holds Dockyard's documentation; its test checks that the
// documents name only files that are in the repository.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	// mdLink is a markdown link or image: [text](target).
	mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// codeSpan is an inline code span: `text`.
	codeSpan = regexp.MustCompile("`([^`\n]+)`")
	// fenced is a fenced code block, whose contents are commands and
	// output rather than references.
	fenced = regexp.MustCompile("(?ms)^\\s*```.*?^\\s*```")
)

// repoPath reports whether a code span names a repository path: one
// word ending in .md or .go, or starting with a top-level directory.
func repoPath(s string) bool {
	if strings.ContainsAny(s, " *<>$|{}=") || strings.Contains(s, "://") {
		return false
	}
	if strings.HasSuffix(s, ".md") || strings.HasSuffix(s, ".go") {
		return true
	}
	for _, dir := range []string{"docs/", "internal/", "cmd/", ".ci/"} {
		if strings.HasPrefix(s, dir) {
			return true
		}
	}
	return false
}

// TestDocsNameOnlyRepositoryFiles fails when README.md or a docs/*.md
// file links to, or names in backticks, a path that is not in the
// repository. Links and bare names (`fit.md`) resolve against the
// document's directory, paths with a directory against the repository
// root; #fragments are ignored.
func TestDocsNameOnlyRepositoryFiles(t *testing.T) {
	root := ".."
	docs, err := filepath.Glob("*.md")
	if err != nil || len(docs) < 5 {
		t.Fatalf("found only %v in docs/ (%v)", docs, err)
	}
	docs = append(docs, filepath.Join(root, "README.md"))
	checked := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		dir := filepath.Dir(doc)
		exists := func(p string) bool {
			_, err := os.Stat(p)
			return err == nil
		}
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, ":") {
				continue // an anchor in the page, a URL, mailto:
			}
			checked++
			if !exists(filepath.Join(dir, target)) {
				t.Errorf("%s links to %s, which is not in the repository", doc, m[1])
			}
		}
		for _, m := range codeSpan.FindAllStringSubmatch(fenced.ReplaceAllString(text, ""), -1) {
			p := strings.TrimSuffix(strings.TrimSuffix(m[1], "/"), ":")
			p, _, _ = strings.Cut(p, "#")
			if !repoPath(p) {
				continue
			}
			checked++
			if !exists(filepath.Join(root, p)) && (strings.Contains(p, "/") || !exists(filepath.Join(dir, p))) {
				t.Errorf("%s names `%s`, which is not in the repository: name a file that is, or say the thing itself", doc, m[1])
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d references; is the parsing wrong?", checked)
	}
}
