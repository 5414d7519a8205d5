package lease

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

var errLost = errors.New("lost")

// TestKeepStopsWhenLost: the work's context ends, with the renewal's error
// as its cause, once a renewal says the lease is lost; the renewals before
// it succeeded. Only the order is checked, not how long it took.
func TestKeepStopsWhenLost(t *testing.T) {
	var calls atomic.Int32
	renew := func(context.Context) error {
		if calls.Add(1) == 3 {
			return errLost
		}
		return nil
	}
	work, stop := Keep(t.Context(), 40*time.Millisecond, renew, func(err error) bool { return errors.Is(err, errLost) }, func(error) {})
	defer stop()
	select {
	case <-work.Done():
	case <-time.After(time.Minute):
		t.Fatal("work not stopped a minute after its lease was lost")
	}
	if cause := context.Cause(work); !errors.Is(cause, errLost) || calls.Load() != 3 {
		t.Errorf("got cause %v after %d renewals, want the loss at the third", cause, calls.Load())
	}
}

// TestKeepDeadline: renewals that keep failing (a store that does not
// answer) end the work with ErrUnrenewed, before anything says the lease is
// lost; each failure before that is reported.
func TestKeepDeadline(t *testing.T) {
	var warned atomic.Int32
	work, stop := Keep(t.Context(), 40*time.Millisecond, func(context.Context) error { return errors.New("connection refused") },
		func(error) bool { return false }, func(error) { warned.Add(1) })
	defer stop()
	select {
	case <-work.Done():
	case <-time.After(time.Minute):
		t.Fatal("work not stopped a minute after its renewals began to fail")
	}
	if cause := context.Cause(work); !errors.Is(cause, ErrUnrenewed) {
		t.Errorf("got cause %v, want ErrUnrenewed", cause)
	}
}

// TestRetry: a step failing twice is run a third time and succeeds; a
// final error ends the retries at once.
func TestRetry(t *testing.T) {
	n, firsts := 0, 0
	err := Retry(t.Context(), func() error {
		n++
		if n < 3 {
			return errors.New("store down")
		}
		return nil
	}, func(error) bool { return false }, func(error) { firsts++ })
	if err != nil || n != 3 || firsts != 1 {
		t.Errorf("got %v after %d runs, %d first-failure reports; want nil after 3, 1", err, n, firsts)
	}
	n = 0
	if err := Retry(t.Context(), func() error { n++; return errLost }, func(err error) bool { return errors.Is(err, errLost) }, func(error) {}); !errors.Is(err, errLost) || n != 1 {
		t.Errorf("final error: got %v after %d runs, want errLost after 1", err, n)
	}
}
