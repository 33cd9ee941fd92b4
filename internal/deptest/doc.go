// Package deptest holds the test that enforces Dockyard's package layers
// (see docs/design.md, "Layers"). It has no code of its own: the rules and
// their check are in deptest_test.go.
package deptest
