// Package algos ships the notebook that runs the Machine Learning Toolkit's
// algorithm names (`| fit StandardScaler x y`, `| fit KMeans k=3 a b into m`):
// one Python module, mltk_algorithms.py, embedded in the binary and run in a
// container like any other notebook, with meta.options.params.algo naming
// the algorithm. Its digest is what a model version trained with it records
// in its lineage, so that apply and summary run exactly the code that
// trained it.
package algos

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	_ "embed"
)

// Source is mltk_algorithms.py.
//
//go:embed mltk_algorithms.py
var Source []byte

// Notebook is the name lineage and messages give the shipped notebook.
const Notebook = "dockyard:mltk_algorithms"

// Format is the shipped notebook's format.
const Format = "py"

// names are the algorithm names the notebook implements (its ALGOS).
var names = []string{
	"IsolationForest", "KMeans", "LinearRegression", "LogisticRegression", "MinMaxScaler", "PCA",
	"RandomForestClassifier", "RandomForestRegressor", "RobustScaler", "StandardScaler",
}

// Names returns the algorithm names, sorted.
func Names() []string { return slices.Clone(names) }

// Lookup returns the algorithm name as the notebook spells it, matching
// name without regard to case.
func Lookup(name string) (string, bool) {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

// Digest is the shipped notebook's "sha256:<hex>".
func Digest() string {
	sum := sha256.Sum256(Source)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ByDigest returns the shipped notebook's content when digest is its digest.
func ByDigest(digest string) ([]byte, bool) {
	if digest != Digest() {
		return nil, false
	}
	return Source, true
}
