// Package lease keeps a claim's lease alive while work goes on, and waits
// out a store that does not answer: the timing half of the runner's
// claims, apart from what is claimed.
//
// Imports: the standard library only.
package lease

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrUnrenewed is the cause of work stopped because its lease could not
// be renewed (the store did not answer) for longer than the lease's safe
// part: another worker may take the work over soon.
var ErrUnrenewed = errors.New("lease not renewed in time")

// Keep calls renew every quarter of lease while the work of the returned
// context goes on, and cancels that context when renew returns an error
// for which lost is true (the cause is that error), or when no renewal
// succeeded for two thirds of the lease (the cause wraps ErrUnrenewed): a
// deadline shorter than the lease, measured on this process's monotonic
// clock, so that the work stops before another worker may take it. warn
// is told of each other failed renewal. stop ends the renewals. A zero
// lease renews nothing.
func Keep(ctx context.Context, lease time.Duration, renew func(context.Context) error, lost func(error) bool, warn func(error)) (context.Context, func()) {
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
			err := renew(rctx)
			rcancel()
			switch {
			case err == nil:
				renewed = time.Now()
			case lost(err):
				cancel(err)
				return
			case time.Since(renewed) > lease*2/3:
				cancel(fmt.Errorf("%w: %w", ErrUnrenewed, err))
				return
			default:
				warn(err)
			}
		}
	}()
	return work, func() { close(done); cancel(nil) }
}

// Retry runs step until it succeeds, final says its error is final, or
// ctx ends, waiting from half a second, doubled each time, to 15 seconds
// between attempts; first is told of the first failure. It returns the
// last error.
func Retry(ctx context.Context, step func() error, final func(error) bool, first func(error)) error {
	wait := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := step()
		if err == nil || final(err) || ctx.Err() != nil {
			return err
		}
		if attempt == 1 {
			first(err)
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
