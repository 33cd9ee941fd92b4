// Package storetest is the conformance suite that every store.Store
// implementation runs unchanged, in one line:
//
//	func TestConformance(t *testing.T) { storetest.Run(t, openEmptyStore) }
//
// An implementation kept in one file also runs RunFiles (files.go) on its
// store.Files: checks, snapshots and reopening.
//
// The suite is grouped by domain, one file per domain (access.go,
// settings.go, ...). To add a domain, write a file with a
// func(t *testing.T, open Opener) and add one line to domains below.
package storetest

import (
	"testing"

	"github.com/dockyard/dockyard/internal/store"
)

// Opener returns a new, empty store for one test and registers its
// cleanup (closing the store, removing its files) with t.Cleanup.
type Opener func(t *testing.T) store.Store

// domains are the groups of tests Run runs, as subtests named by domain.
var domains = []struct {
	name string
	run  func(t *testing.T, open Opener)
}{
	{"access", testAccess},
	{"settings", testSettings},
	{"events", testEvents},
	{"lookups", testLookups},
	{"models", testModels},
	{"containers", testContainers},
	{"notebooks", testNotebooks},
	{"apps", testApps},
	{"images", testImages},
	{"registries", testRegistries},
	{"image_scans", testImageScans},
	{"certs", testCerts},
	{"gpu_quotas", testGPUQuotas},
	{"signing", testSigning},
	{"tx", testTx},
}

// Run runs the whole conformance suite against the implementation that
// open creates. Every subtest opens its own empty store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	for _, d := range domains {
		t.Run(d.name, func(t *testing.T) { d.run(t, open) })
	}
}
