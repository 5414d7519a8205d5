package store

import "errors"

// Outcome is what a claim came to, for a caller that goes on either way.
type Outcome int

// The outcomes of a claim.
const (
	// Claimed: the story is the caller's to fetch and write.
	Claimed Outcome = iota
	// Settled: written, known from an import, or failed for good; for
	// ClaimRefetch, no re-fetch waiting.
	Settled
	// HeldElsewhere: another live owner holds it.
	HeldElsewhere
	// NotDue: it failed earlier and its retry time has not come; for
	// ClaimRefetch, its re-fetch time has not come.
	NotDue
)

// ClaimOutcome reads the error of Claim, ForceClaim or ClaimRefetch: which refusals
// mean the story is taken care of, and which errors are real (the
// store failed), returned as they are.
func ClaimOutcome(err error) (Outcome, error) {
	switch {
	case err == nil:
		return Claimed, nil
	case errors.Is(err, ErrWritten), errors.Is(err, ErrPermanent), errors.Is(err, ErrNoRefetch):
		return Settled, nil
	case errors.Is(err, ErrClaimed):
		return HeldElsewhere, nil
	case errors.Is(err, ErrNotDue):
		return NotDue, nil
	}
	return Claimed, err
}
