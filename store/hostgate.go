package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// hostBudget is what a backend offers for sharing hosts' politeness:
// takeHostSlot is one atomic step that loads the host's budget, applies
// takeSlot (which takes a slot and reserves a start, or says how long to
// wait before asking again) and stores the result; deferHost applies
// deferredUntil the same way. Starts are scheduled, like the in-process
// fetcher does, so that the time between taking a slot and sending does
// not shorten the gap a host sees.
type hostBudget interface {
	takeHostSlot(ctx context.Context, host, token string, concurrency int, gap, lease time.Duration, now time.Time) (reserved bool, wait time.Duration, err error)
	freeHostSlot(ctx context.Context, token string) error
	deferHost(ctx context.Context, host string, wait time.Duration, now time.Time) error
}

// HostGate shares each host's request budget among all the workers that
// use one store: the concurrency, the delay between starts, and the waits
// a host asks for (Retry-After). It has the method set of
// crawler.HostGate. A killed worker's slots free themselves after the
// slot lease.
//
// Every time the gate stores (starts, slot leases, not-before times) is
// on the store's clock: a worker whose clock is off neither takes a slot
// early nor frees another's. The worker's own clock measures only waits,
// durations it is told.
type HostGate struct {
	b     hostBudget
	lease time.Duration
	now   func() time.Time
}

// NewHostGate returns the gate of b, which must be a backend of this
// package. lease bounds how long a slot of a killed worker stays taken;
// it must exceed a request's timeout.
func NewHostGate(b Backend, lease time.Duration) (*HostGate, error) {
	hb, ok := b.(hostBudget)
	if !ok {
		return nil, fmt.Errorf("host gate: backend %T keeps no host budget", b)
	}
	return &HostGate{b: hb, lease: lease, now: time.Now}, nil
}

// Acquire waits until a request to host may start, takes a slot and
// returns the func that frees it.
func (g *HostGate) Acquire(ctx context.Context, host string, concurrency int, gap time.Duration) (func(), error) {
	token := newToken()
	// A few milliseconds more than the gap between workers: the time from
	// reserving a start to the request reaching the host varies with
	// each process's scheduling, and the host must never see less.
	gap += gateMargin + gap/20
	for {
		// The start is reserved wait after the store's clock read in
		// the transaction; waiting it out from the answer starts the
		// request a little late, never early.
		reserved, wait, err := g.b.takeHostSlot(ctx, host, token, concurrency, gap, g.lease, time.Time{})
		if err != nil {
			return nil, fmt.Errorf("host slot %s: %w", host, err)
		}
		release := func() {
			// The request is over even when its context is not.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			g.b.freeHostSlot(ctx, token)
		}
		if reserved && wait <= 0 {
			return release, nil
		}
		if !reserved {
			wait = min(max(wait, slotWait), time.Second)
		}
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			if reserved {
				release()
			}
			return nil, ctx.Err()
		case <-t.C:
		}
		if reserved {
			return release, nil
		}
	}
}

// Defer keeps every worker away from host until then, a time of this
// worker's clock: what is stored is as far from the store's clock.
func (g *HostGate) Defer(ctx context.Context, host string, until time.Time) error {
	return g.b.deferHost(ctx, host, until.Sub(g.now()), time.Time{})
}

func newToken() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// gateMargin is added to the gap between two workers' requests to a host.
const gateMargin = 10 * time.Millisecond

// slotWait is how long a worker waits before trying again for a full host.
const slotWait = 10 * time.Millisecond

// maxReservation is the furthest ahead a start is reserved; a host that
// asked for a longer wait (Retry-After) is asked again closer to the time,
// so that no slot is held idle for long.
const maxReservation = time.Second
