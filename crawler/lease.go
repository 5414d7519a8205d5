package crawler

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errLeaseUnrenewed is the cause of a story's work stopped because its
// lease could not be renewed (the store did not answer) for longer than
// the lease's safe part: another worker may take the story soon.
var errLeaseUnrenewed = errors.New("story lease not renewed in time")

// keepLease renews k's claim while ctx's work on it goes on, every
// quarter of the lease, and returns the context of that work: cancelled
// when the claim is lost, or when no renewal succeeded for two thirds of
// the lease (a deadline shorter than the lease, measured on this
// worker's monotonic clock, so the work stops before another worker may
// take the story). stop ends the renewals. A zero lease renews nothing.
func (r *Runner) keepLease(ctx context.Context, k Key) (context.Context, func()) {
	lease := r.cfg.Lease
	if lease <= 0 {
		return ctx, func() {}
	}
	work, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(lease / 4)
		defer t.Stop()
		renewed := time.Now()
		for {
			select {
			case <-done:
				return
			case <-work.Done():
				return
			case <-t.C:
			}
			rctx, rcancel := context.WithTimeout(work, lease/4)
			err := r.dep.Claims.Renew(rctx, k)
			rcancel()
			switch {
			case err == nil:
				renewed = time.Now()
			case errors.Is(err, ErrClaimLost):
				cancel(fmt.Errorf("renew %s: %w", k.URL, err))
				return
			case time.Since(renewed) > lease*2/3:
				cancel(fmt.Errorf("renew %s: %w: %w", k.URL, errLeaseUnrenewed, err))
				return
			default:
				r.dep.Log.Warn("could not renew a story's lease; trying again", "article_url", k.URL, "error", err)
			}
		}
	}()
	return work, func() { close(done); cancel(nil) }
}

// storeRetry runs step until it succeeds, the claim is lost, the archive
// disk is broken, or ctx ends: a store that does not answer is waited for,
// with backoff from half a second to 15 seconds, so that a story whose
// page is in hand is not fetched again after a short outage. It returns
// the last error.
func (r *Runner) storeRetry(ctx context.Context, what string, k Key, step func() error) error {
	wait := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := step()
		if err == nil || errors.Is(err, ErrClaimLost) || archiveBroken(err) || ctx.Err() != nil {
			return err
		}
		if attempt == 1 {
			r.dep.Log.Warn("store step failed; retrying while the story's lease lasts", "step", what, "article_url", k.URL, "error", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, 15*time.Second)
	}
}
