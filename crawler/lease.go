package crawler

import (
	"context"
	"errors"

	"github.com/newsmd/newsmd/crawler/internal/lease"
)

// keepLease renews k's claim while ctx's work on it goes on: see
// lease.Keep. The work's context ends when the claim is lost (its cause
// wraps ErrClaimLost) or could not be renewed in time.
func (r *Runner) keepLease(ctx context.Context, k Key) (context.Context, func()) {
	return lease.Keep(ctx, r.cfg.Lease, func(ctx context.Context) error { return r.dep.Claims.Renew(ctx, k) },
		func(err error) bool { return errors.Is(err, ErrClaimLost) },
		func(err error) {
			r.dep.Log.Warn("could not renew a story's lease; trying again", "article_url", k.URL, "error", err)
		})
}

// storeRetry runs a store step of k's until it succeeds, the claim is
// lost, the archive disk is broken or ctx (the story's lease) ends, so
// that a page in hand is not fetched again after a short outage.
func (r *Runner) storeRetry(ctx context.Context, what string, k Key, step func() error) error {
	return lease.Retry(ctx, step, func(err error) bool { return errors.Is(err, ErrClaimLost) || archiveBroken(err) },
		func(err error) {
			r.dep.Log.Warn("store step failed; retrying while the story's lease lasts", "step", what, "article_url", k.URL, "error", err)
		})
}
