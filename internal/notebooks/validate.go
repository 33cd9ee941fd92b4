package notebooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Formats a notebook can have.
const (
	FormatIPYNB = "ipynb"
	FormatPy    = "py"
)

// MaxSize is the largest notebook accepted, in bytes.
const MaxSize = 16 << 20

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ValidateName checks a notebook name (the algo= of a fit).
func ValidateName(name string) error {
	if !nameRE.MatchString(name) || strings.HasSuffix(name, ".ipynb") || strings.HasSuffix(name, ".py") {
		return errdefs.Invalidf("notebook name %q is not valid: use 1 to 128 letters, digits, '_', '.' or '-', "+
			"not starting with '.' or '-', without the .ipynb or .py extension", name)
	}
	return nil
}

// FormatOf returns the format a file name's extension names.
func FormatOf(file string) (string, error) {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".ipynb":
		return FormatIPYNB, nil
	case ".py":
		return FormatPy, nil
	}
	return "", errdefs.Invalidf("notebook %s: give a Jupyter notebook (.ipynb) or a Python module (.py)", file)
}

// NameFromFile derives a notebook name from a file name: its base name
// without the extension.
func NameFromFile(file string) string {
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// FileName is the notebook's file name inside a container.
func FileName(name, format string) string { return name + "." + format }

// Validate checks content of the given format; what names the notebook in
// messages (a file or notebook name).
//
// A .ipynb must be nbformat-4 JSON with a "cells" list in which at least one
// code cell carries a "name" key in its metadata (the cells the runner
// exports); a .py must be UTF-8 text.
func Validate(what, format string, content []byte) error {
	if len(content) == 0 {
		return errdefs.Invalidf("notebook %s is empty", what)
	}
	if len(content) > MaxSize {
		return errdefs.Invalidf("notebook %s is %d bytes, more than the %d allowed: move data out of it into notebooks/data", what, len(content), MaxSize)
	}
	switch format {
	case FormatPy:
		if !utf8.Valid(content) {
			return errdefs.Invalidf("notebook %s is not valid UTF-8 text: save the module as UTF-8", what)
		}
		return nil
	case FormatIPYNB:
		return validateIPYNB(what, content)
	}
	return errdefs.Invalidf("notebook %s: format %q is not ipynb or py", what, format)
}

func validateIPYNB(what string, content []byte) error {
	var nb struct {
		NBFormat *int `json:"nbformat"`
		Cells    *[]struct {
			CellType string         `json:"cell_type"`
			Metadata map[string]any `json:"metadata"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(content, &nb); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(content, se.Offset)
			return errdefs.Invalidf("notebook %s is not valid JSON (line %d, column %d: %w): save it from Jupyter as .ipynb, or push a .py module", what, line, col, err)
		}
		return errdefs.Invalidf("notebook %s is not an nbformat-4 notebook (%w): save it from Jupyter as .ipynb", what, err)
	}
	if nb.NBFormat == nil || *nb.NBFormat != 4 {
		got := "missing"
		if nb.NBFormat != nil {
			got = fmt.Sprint(*nb.NBFormat)
		}
		return errdefs.Invalidf("notebook %s: \"nbformat\" is %s, not 4: save it with Jupyter (nbformat 4)", what, got)
	}
	if nb.Cells == nil {
		return errdefs.Invalidf("notebook %s has no \"cells\" list: it is not an nbformat-4 notebook", what)
	}
	for _, c := range *nb.Cells {
		if c.CellType != "code" {
			continue
		}
		if n, ok := c.Metadata["name"]; ok && n != nil && n != "" {
			return nil
		}
	}
	return errdefs.Invalidf("notebook %s: no code cell has the metadata key \"name\", so nothing would run; "+
		"add \"name\" to the metadata of each cell to export (for example {\"name\": \"mltkc_fit\"}; the conventional names are "+
		"mltkc_import, mltkc_init, mltkc_fit, mltkc_apply, mltkc_save, mltkc_load, mltkc_summary)", what)
}

// position turns a byte offset into a 1-based line and column.
func position(b []byte, off int64) (line, col int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	pre := b[:off]
	line = bytes.Count(pre, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(pre, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}
