package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// The rules of the store, written once. Each takes the state as stored and
// the time now, and returns what to store: no database, no clock. A backend
// loads the state inside the transaction that makes its step atomic (the
// SQLite write lock, PostgreSQL row and advisory locks), calls the rule and
// stores the result, so both backends decide alike and the rules are tested
// without a database.
//
// Two rules stay in SQL: the filters of Due and DueRefetch, queries over
// all stories. Due lists the stories claimRefusal would let a new owner
// claim among the pending and failed ones; DueRefetch those
// refetchRefusal would.

// heldByOther reports whether a claim or lease that holder has until
// until keeps owner out at now. A lease ending at now has ended.
func heldByOther(holder string, until time.Time, owner string, now time.Time) bool {
	return holder != "" && holder != owner && until.After(now)
}

// claimRefusal is the rule of Backend.Claim and ForceClaim, which every
// backend applies to the story as stored: nil when owner may claim r at
// now, else the error that says why not.
func claimRefusal(r Record, owner string, now time.Time, force bool) error {
	if !force {
		switch {
		case r.State == StateWritten || r.State == StateKnown:
			return ErrWritten
		case r.State == StatePermanent:
			return ErrPermanent
		case r.State == StateFailed && r.RetryAt.After(now):
			return ErrNotDue
		}
	}
	if heldByOther(r.Owner, r.LeaseUntil, owner, now) {
		return ErrClaimed
	}
	return nil
}

// claimed returns r claimed by owner until now+lease, its state kept, or r
// as it is with claimRefusal's error.
func claimed(r Record, owner string, lease time.Duration, now time.Time, force bool) (Record, error) {
	if err := claimRefusal(r, owner, now, force); err != nil {
		return r, err
	}
	r.Owner, r.LeaseUntil, r.Token = owner, now.Add(lease), r.Token+1
	return r, nil
}

// decisionTime is the time a backend decides a lease or a host slot at:
// now when one is given (tests, tools), else the store's own clock, read
// inside the deciding transaction. Workers pass the zero time, so that
// every lease and host slot runs on one clock, the database's, whatever
// each worker's clock says.
func decisionTime(now time.Time, clock func() (time.Time, error)) (time.Time, error) {
	if !now.IsZero() {
		return now, nil
	}
	return clock()
}

// fenceRefusal is the fence of the steps that end a claim with a post
// (Publish) and of a feed's release with its state: nil when owner holds
// the claim whose generation is gen under the token its claim was given.
// A claim taken over since, even by the same owner, has another
// generation: the stale holder's step is refused.
func fenceRefusal(holder string, gen int64, owner string, token int64) error {
	if err := holdRefusal(holder, owner); err != nil {
		return err
	}
	if gen != token {
		return ErrNotOwner
	}
	return nil
}

// renewed returns r with owner's claim, held under token, extended to
// now+lease, or r as it is with fenceRefusal's error.
func renewed(r Record, owner string, token int64, lease time.Duration, now time.Time) (Record, error) {
	if err := fenceRefusal(r.Owner, r.Token, owner, token); err != nil {
		return r, err
	}
	r.LeaseUntil = now.Add(lease)
	return r, nil
}

// holdRefusal is the rule of the steps that need a claim (Release,
// MarkFailed, ReservePath, MarkWritten) and of ReleaseFeed: nil when owner
// is holder. The lease is not looked at: a claim past its lease is still
// its owner's until another owner takes it.
func holdRefusal(holder, owner string) error {
	if owner == "" || holder != owner {
		return ErrNotOwner
	}
	return nil
}

// released returns r without its claim, its state kept.
func released(r Record) Record {
	r.Owner, r.LeaseUntil = "", time.Time{}
	return r
}

// failed returns r after a failed attempt that ends the claim: a transient
// failure is retried from retryAt, a permanent one only by a forced claim,
// and a written or known story (a forced rewrite that failed) keeps its
// state and post. Each counts the attempt and keeps the reason.
func failed(r Record, reason string, permanent bool, retryAt time.Time) Record {
	r = released(r)
	switch {
	case r.State == StateWritten || r.State == StateKnown:
		retryAt = time.Time{}
	case permanent:
		r.State, retryAt = StatePermanent, time.Time{}
	default:
		r.State = StateFailed
	}
	r.Attempts++
	r.LastError, r.RetryAt = reason, retryAt
	return r
}

// written returns r with its whole post durable at path: the claim ends
// and past failures are forgotten, though not counted away. When the post
// it replaces was truncated, this was a re-fetch, and the last one.
func written(r Record, path, sha256 string) Record {
	if r.State == StateWritten && r.Truncated {
		r.Refetches++
	}
	r = released(r)
	r.State, r.LastError, r.RetryAt = StateWritten, "", time.Time{}
	r.Path, r.SHA256 = path, sha256
	r.Truncated, r.RefetchAt = false, time.Time{}
	return r
}

// writtenTruncated is written for a post a paywall cut short: it is due
// for a re-fetch at refetchAt (the zero time: never). Replacing a
// truncated post counts a re-fetch, as written does.
func writtenTruncated(r Record, path, sha256 string, refetchAt time.Time) Record {
	r = written(r, path, sha256)
	r.Truncated, r.RefetchAt = true, refetchAt
	return r
}

// refetchRefusal is the rule of Backend.ClaimRefetch: nil when owner may
// claim r at now to fetch its truncated post again, else why not.
func refetchRefusal(r Record, owner string, now time.Time) error {
	switch {
	case r.State != StateWritten || !r.Truncated || r.RefetchAt.IsZero():
		return ErrNoRefetch
	case r.RefetchAt.After(now):
		return ErrNotDue
	case heldByOther(r.Owner, r.LeaseUntil, owner, now):
		return ErrClaimed
	}
	return nil
}

// refetchClaimed returns r claimed by owner until now+lease for a
// re-fetch, its state and post kept, or r as it is with refetchRefusal's
// error.
func refetchClaimed(r Record, owner string, lease time.Duration, now time.Time) (Record, error) {
	if err := refetchRefusal(r, owner, now); err != nil {
		return r, err
	}
	r.Owner, r.LeaseUntil, r.Token = owner, now.Add(lease), r.Token+1
	return r, nil
}

// keptTruncated returns r after a re-fetch that found no better copy: the
// claim ends, the post stays, the re-fetch is counted and the next is due
// at refetchAt (the zero time: never). It returns ErrNoRefetch when r has
// no truncated post.
func keptTruncated(r Record, refetchAt time.Time) (Record, error) {
	if r.State != StateWritten || !r.Truncated {
		return r, ErrNoRefetch
	}
	r = released(r)
	r.Refetches++
	r.RefetchAt = refetchAt
	return r, nil
}

// known returns r found in an existing archive at path, and false when r
// is already written or known: such a story keeps its path.
func known(r Record, path string) (Record, bool) {
	if r.State == StateWritten || r.State == StateKnown {
		return r, false
	}
	r.State, r.LastError, r.RetryAt, r.Path = StateKnown, "", time.Time{}, path
	return r, true
}

// learnsSiteKey reports whether a story stored as stored takes the SiteKey
// of met, an identity that names it: only a story recorded without one
// does, so a story's SiteKey never changes.
func learnsSiteKey(stored, met Identity) bool {
	return stored.SiteKey == "" && met.SiteKey != ""
}

// candidateNames lists the names ReservePath tries, in order: wantName,
// then wantName with a suffix from the SiteKey, from a hash of the URL,
// and from the hash and a counter. The suffixes depend on the story alone,
// so a story gets the same name whichever process reserves it.
func candidateNames(wantName string, id Identity) []string {
	base, hasExt := strings.CutSuffix(wantName, ".md")
	ext := ""
	if hasExt {
		ext = ".md"
	}
	names := []string{wantName}
	if key := fileSafe(id.SiteKey); key != "" {
		names = append(names, base+"-"+key+ext)
	}
	sum := sha256.Sum256([]byte(id.URL))
	hash := hex.EncodeToString(sum[:4])
	names = append(names, base+"-"+hash+ext)
	for i := 2; i <= 100; i++ {
		names = append(names, base+"-"+hash+"-"+strconv.Itoa(i)+ext)
	}
	return names
}

// fileSafe keeps the letters and digits of s and joins their runs with
// '-': "zaobao:1214802" becomes "zaobao-1214802".
func fileSafe(s string) string {
	var b strings.Builder
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		switch {
		case ok:
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// feedClaimed is the rule of Backend.ClaimFeed for a feed whose lease
// holder has until until: owner's new lease end, and true, unless another
// owner's lease runs past now. Claiming a feed one holds renews the lease.
// Every claim gets the next generation: gen+1 is the token that
// ReleaseFeedState must show.
func feedClaimed(holder string, until time.Time, gen int64, owner string, lease time.Duration, now time.Time) (time.Time, int64, bool) {
	if heldByOther(holder, until, owner, now) {
		return until, gen, false
	}
	return now.Add(lease), gen + 1, true
}

// failureNoted is the rule of Backend.NoteFailure: what is kept of a story
// that failed at now, given what was kept before (found false when this is
// its first failure). Since is the first failure's time; the feed copy is
// the latest one given, an empty one erasing nothing.
func failureNoted(prev Failure, found bool, now time.Time, feedCopy []byte) Failure {
	if !found {
		return Failure{Since: now, FeedCopy: feedCopy}
	}
	if len(feedCopy) > 0 {
		prev.FeedCopy = feedCopy
	}
	return prev
}

// hostBudgetState is a host's share of the politeness budget as stored.
type hostBudgetState struct {
	// NextStart is the earliest start a new slot may reserve, one gap
	// after the last start reserved.
	NextStart time.Time
	// NotBefore is the time the host asked to be left alone until.
	NotBefore time.Time
	// Slots are the slots taken, expired ones included.
	Slots []hostSlot
}

// hostSlot is one request in flight to a host, or reserved to start.
type hostSlot struct {
	Token string
	// Until is the end of the slot's lease: a killed worker's slot is
	// free from then.
	Until time.Time
}

// slotDecision is what takeSlot decides.
type slotDecision struct {
	// Reserved: a slot is taken, and a start reserved Wait from now. Else
	// the host is full or its next start too far ahead: ask again after
	// Wait.
	Reserved bool
	Wait     time.Duration
	// Slot is the slot taken, and NextStart the host's new next start,
	// when Reserved.
	Slot      hostSlot
	NextStart time.Time
	// Expired lists the tokens of slots whose lease has ended: they are
	// free and may be deleted, reserved or not.
	Expired []string
}

// takeSlot is the rule of the host gate: a slot with token is taken when
// fewer than concurrency slots of the host are held (an expired slot is
// free) and its start is at most maxReservation away. The start is the
// later of now, the host's next start and its not-before time; the next
// start moves one gap after it. The slot's lease runs from the start.
// When no slot is taken, the wait before asking again is the time until
// the start comes within maxReservation, and at least slotWait.
func takeSlot(h hostBudgetState, token string, concurrency int, gap, lease time.Duration, now time.Time) slotDecision {
	var d slotDecision
	held := 0
	for _, s := range h.Slots {
		if s.Until.After(now) {
			held++
		} else {
			d.Expired = append(d.Expired, s.Token)
		}
	}
	start := now
	for _, t := range []time.Time{h.NextStart, h.NotBefore} {
		if t.After(start) {
			start = t
		}
	}
	d.Wait = start.Sub(now)
	if held >= concurrency || d.Wait > maxReservation {
		d.Wait = max(d.Wait-maxReservation, slotWait)
		return d
	}
	d.Reserved = true
	d.Slot = hostSlot{Token: token, Until: start.Add(lease)}
	d.NextStart = start.Add(gap)
	return d
}

// deferredUntil is the rule of HostGate.Defer: a host's not-before time
// after a request to keep away until until. A wait asked for earlier and
// running longer is kept.
func deferredUntil(notBefore, until time.Time) time.Time {
	if until.After(notBefore) {
		return until
	}
	return notBefore
}
