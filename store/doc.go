// Package store owns the archive's durable state and the coordination of
// the workers that share it:
//
//   - stories: which are known, claimed (by whom, until when), failed and
//     when they are retried, written and under which file name, and the
//     identity rule that says when two URLs are one story (Identity);
//   - feeds: validators and poll schedule, and who holds a feed's lease;
//   - failures: since when a story has been failing, and its feed's copy;
//   - hosts: the request budget all workers share (HostGate);
//   - posts on disk: atomic file writes (WriteFile) and Publish, which
//     joins a reserved name, the file and the story's state so that a
//     crash neither loses a story nor writes it twice.
//
// Every claim carries a fencing token (a lease generation), checked in
// the transaction that publishes the post; leases and host slots are
// decided by the store's clock when the caller passes the zero time.
//
// The rules (when a claim is taken, what a failure leaves, when a host
// slot is free) are plain functions in policy.go, with no database and
// no clock. Each Backend speaks only its SQL around them: SQLite, the
// embedded backend (one file, shared by the processes of one machine),
// and Postgres, the server backend (many workers on many machines). Both
// pass the conformance suite in store/storetest; their schema changes are
// the numbered scripts under migrations/.
//
// Imports: the standard library and the database drivers
// (modernc.org/sqlite, github.com/jackc/pgx/v5) only; none of newsmd's
// other packages. cmd/newsmd wires a Store to the crawler, which reaches
// it through small interfaces it defines itself; converter/ and crawler/
// never import store, nor store them.
package store
