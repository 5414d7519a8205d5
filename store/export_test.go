package store

// SetBeforeCommit makes s call f in Publish after the post's temporary
// file is written and before the transaction that renames it into place:
// a slow disk, or a worker paused, for tests.
func SetBeforeCommit(s *Store, f func()) { s.beforeCommit = f }
