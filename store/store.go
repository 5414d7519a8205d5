package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Store is a Backend with the archive folder the posts are written into.
// The Backend's methods are the Store's; Publish joins them to the folder.
type Store struct {
	Backend
	dir string
	// beforeCommit, when set by a test, runs between the temporary
	// file and the commit of Publish.
	beforeCommit func()
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
// claim under token, the Record.Token its claim returned: else Publish
// returns ErrNotOwner and the archive is as it was.
//
// The steps are ReservePath, a synced temporary file, then one
// transaction that checks the claim's token, renames the file over the
// post's path (and syncs the folder) and marks the story written. The
// check and the rename are under the story's lock, so a holder whose
// lease ran out (a slow disk, a long pause) cannot replace the post of
// the owner that took the story over: that owner's claim either came
// before the check, which then fails, or waits for the mark and finds the
// story written. A crash (SIGKILL, power cut) at any point:
//   - before the reservation commits: nothing changed; the claim expires
//     and the story is claimed again (Due lists it even if it left its feed).
//   - after the reservation, before the rename: at most a temporary file
//     ".newsmd-*.tmp" in TempFolder, which no reader takes for a post and
//     CleanTemp removes; the next claimant gets the
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
//
// A story already written (a forced rewrite, the re-fetch of a truncated
// post) keeps its reserved name, so its post is replaced in place: a crash
// leaves the old post or the new one, whole.
func (s *Store) Publish(ctx context.Context, id Identity, owner string, token int64, name string, content []byte) (string, error) {
	return s.publish(ctx, id, owner, token, name, content, func(r Record, rel, sum string) Record {
		return written(r, rel, sum)
	})
}

// PublishTruncated is Publish for a post a paywall cut short: the story is
// marked written with MarkTruncated, due for a re-fetch at refetchAt (the
// zero time: never).
func (s *Store) PublishTruncated(ctx context.Context, id Identity, owner string, token int64, name string, content []byte, refetchAt time.Time) (string, error) {
	return s.publish(ctx, id, owner, token, name, content, func(r Record, rel, sum string) Record {
		return writtenTruncated(r, rel, sum, refetchAt)
	})
}

func (s *Store) publish(ctx context.Context, id Identity, owner string, token int64, name string, content []byte, rule func(r Record, rel, sum string) Record) (string, error) {
	fb, err := s.fenced()
	if err != nil {
		return "", fmt.Errorf("publish %s: %w", id.URL, err)
	}
	rel, err := s.ReservePath(ctx, id, owner, name)
	if err != nil {
		return "", fmt.Errorf("publish %s: %w", id.URL, err)
	}
	path := filepath.Join(s.dir, rel)
	tmp, err := writeTemp(filepath.Join(s.dir, TempFolder), path, content, 0o644)
	if err != nil {
		return "", fmt.Errorf("publish %s: %w", id.URL, err)
	}
	defer func() { os.Remove(tmp) }() // when the rename did not happen
	sum := sha256.Sum256(content)
	hexSum := hex.EncodeToString(sum[:])
	renamed := false
	commit := func() error {
		// A transaction run again (a busy SQLite, a PostgreSQL
		// deadlock) finds the file in place.
		if renamed {
			return nil
		}
		err := renameInto(tmp, path)
		if errors.Is(err, syscall.EXDEV) {
			// The post's folder is mounted from another file
			// system than TempFolder: the file goes beside it.
			os.Remove(tmp)
			if tmp, err = writeTemp(filepath.Dir(path), path, content, 0o644); err == nil {
				err = renameInto(tmp, path)
			}
		}
		if err != nil {
			return err
		}
		renamed = true
		return nil
	}
	mark := func(r Record) Record { return rule(r, rel, hexSum) }
	if s.beforeCommit != nil {
		s.beforeCommit()
	}
	if err := fb.commitPost(ctx, id, owner, token, rel, mark, commit); err != nil {
		return "", fmt.Errorf("publish %s: %w", id.URL, err)
	}
	return path, nil
}

// CleanTemp removes the leftovers of killed writers from the archive's
// TempFolder (see the function CleanTemp). It lists that folder only, so
// it costs the same whatever the number of posts.
func (s *Store) CleanTemp(maxAge time.Duration) (int, error) {
	return CleanTemp(filepath.Join(s.dir, TempFolder), maxAge)
}

// Claim is Backend.Claim, except that a claim held by a dead process of
// this host (owners named by NewOwner) is taken over at once instead of
// after its lease: a run started right after a crash continues its work.
func (s *Store) Claim(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time) (Record, error) {
	return s.takeOver(ctx, id, owner, func() (Record, error) { return s.Backend.Claim(ctx, id, owner, lease, now) })
}

// ForceClaim is Backend.ForceClaim with Claim's takeover of dead owners.
func (s *Store) ForceClaim(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time) (Record, error) {
	return s.takeOver(ctx, id, owner, func() (Record, error) { return s.Backend.ForceClaim(ctx, id, owner, lease, now) })
}

// ClaimRefetch is Backend.ClaimRefetch with Claim's takeover of dead
// owners.
func (s *Store) ClaimRefetch(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time) (Record, error) {
	return s.takeOver(ctx, id, owner, func() (Record, error) { return s.Backend.ClaimRefetch(ctx, id, owner, lease, now) })
}

func (s *Store) takeOver(ctx context.Context, id Identity, owner string, claim func() (Record, error)) (Record, error) {
	rec, err := claim()
	if !errors.Is(err, ErrClaimed) || !deadLocalOwner(rec.Owner) {
		return rec, err
	}
	// Several live workers may do this at once: each releases the dead
	// owner's claim (all but the first find it gone), then they claim as
	// usual and exactly one wins.
	if rerr := s.Backend.Release(ctx, id, rec.Owner); rerr != nil && !errors.Is(rerr, ErrNotOwner) {
		return rec, err
	}
	return claim()
}

// ClaimFeed is Backend.ClaimFeed, except that the lease of a dead process
// of this host is taken over at once, as Claim does for stories.
func (s *Store) ClaimFeed(ctx context.Context, feedURL, owner string, lease time.Duration, now time.Time) (bool, error) {
	ok, err := s.Backend.ClaimFeed(ctx, feedURL, owner, lease, now)
	if err != nil || ok {
		return ok, err
	}
	st, err := s.Backend.FeedState(ctx, feedURL)
	if err != nil || !deadLocalOwner(st.Owner) {
		return false, err
	}
	if rerr := s.Backend.ReleaseFeed(ctx, feedURL, st.Owner); rerr != nil && !errors.Is(rerr, ErrNotOwner) {
		return false, rerr
	}
	return s.Backend.ClaimFeed(ctx, feedURL, owner, lease, now)
}
