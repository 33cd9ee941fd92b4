// Package examples embeds the example notebook and data set that
// `dockyard quickstart` uses, so that a built binary can run it from any
// directory. The files themselves live beside this one: notebooks/ and
// data/.
package examples

import _ "embed"

// LinearRegression is notebooks/linear_regression.ipynb: least squares that
// runs on a bare python3 (and uses numpy and pandas when present).
//
//go:embed notebooks/linear_regression.ipynb
var LinearRegression []byte

// Iris is data/iris.csv: the classic iris data set (150 rows).
//
//go:embed data/iris.csv
var Iris []byte
