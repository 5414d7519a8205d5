// Package storetest is the conformance suite of store.Backend: every
// backend (SQLite, PostgreSQL) passes Run, so the rules of the store hold
// whichever one a deployment uses. It is test support: only tests of
// store's backends use it.
//
// Imports: store and the standard library (testing among it), nothing
// else of newsmd's.
package storetest
