package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
)

// Store is a Backend with the archive folder the posts are written into.
// The Backend's methods are the Store's; Publish joins them to the folder.
type Store struct {
	Backend
	dir string
}

// New returns a Store that keeps state in b and writes posts into dir.
func New(b Backend, dir string) *Store {
	return &Store{Backend: b, dir: dir}
}

// Dir returns the archive folder.
func (s *Store) Dir() string { return s.dir }

// Publish writes a claimed story's post into the archive folder under name
// (or the name ReservePath gives instead) and marks the story written. It
// returns the post's path, in the folder. owner must hold the story's
// claim.
//
// The steps are ReservePath, WriteFile (temporary file, fsync, rename,
// folder fsync), MarkWritten. A crash (SIGKILL, power cut) at any point:
//   - before the reservation commits: nothing changed; the claim expires
//     and the story is claimed again (Due lists it even if it left its feed).
//   - after the reservation, before the rename: at most a temporary file
//     ".newsmd-*.tmp" no reader takes for a post; the next claimant gets the
//     same path from ReservePath, so no second file appears.
//   - after the rename, before MarkWritten commits: the post is whole on
//     disk but the story is not marked; the next run rewrites the same path
//     in place (same story, same name), so again no second file.
//   - after MarkWritten: done; Claim returns ErrWritten from then on.
//
// The story is never lost, since it is only marked written once the file is
// durable, and never gets two files, since its name is fixed before the file
// exists. When WriteFile fails (a full disk) no temporary file is left and
// the story keeps its claim and its reserved name: the caller releases it
// or marks it failed, and stops the run.
func (s *Store) Publish(ctx context.Context, id Identity, owner, name string, content []byte) (string, error) {
	rel, err := s.ReservePath(ctx, id, owner, name)
	if err != nil {
		return "", fmt.Errorf("publish %s: %w", id.URL, err)
	}
	path := filepath.Join(s.dir, rel)
	if err := WriteFile(path, content, 0o644); err != nil {
		return "", fmt.Errorf("publish %s: %w", id.URL, err)
	}
	sum := sha256.Sum256(content)
	if err := s.MarkWritten(ctx, id, owner, rel, hex.EncodeToString(sum[:])); err != nil {
		return "", fmt.Errorf("publish %s: %w", id.URL, err)
	}
	return path, nil
}
