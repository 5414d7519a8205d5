package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"

	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// hostBudget is what a backend offers for sharing hosts' politeness: one
// atomic step that, when fewer than concurrency slots of host are held,
// takes one and reserves the next start time (the later of the host's
// next start and not-before time, then pushes the next start one gap
// further), returning how long to wait for it; otherwise it says how long
// to wait before asking again. Starts are scheduled, like the in-process
// fetcher does, so that the time between taking a slot and sending does
// not shorten the gap a host sees.
type hostBudget interface {
	takeHostSlot(ctx context.Context, host, token string, concurrency int, gap, lease time.Duration, now time.Time) (reserved bool, wait time.Duration, err error)
	freeHostSlot(ctx context.Context, token string) error
	deferHost(ctx context.Context, host string, until time.Time) error
}

// HostGate shares each host's request budget among all the workers that
// use one store: the concurrency, the delay between starts, and the waits
// a host asks for (Retry-After). It has the method set of
// crawler.HostGate. A killed worker's slots free themselves after the
// slot lease.
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
		now := g.now()
		reserved, wait, err := g.b.takeHostSlot(ctx, host, token, concurrency, gap, g.lease, now)
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
		if reserved {
			// The start was reserved for now+wait: the transaction's own
			// time counts towards it.
			wait = now.Add(wait).Sub(g.now())
		} else {
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

// Defer keeps every worker away from host until then.
func (g *HostGate) Defer(ctx context.Context, host string, until time.Time) error {
	return g.b.deferHost(ctx, host, until)
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

func (s *SQLite) takeHostSlot(ctx context.Context, host, token string, concurrency int, gap, lease time.Duration, now time.Time) (bool, time.Duration, error) {
	var (
		reserved bool
		wait     time.Duration
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hosts (host) VALUES (?) ON CONFLICT (host) DO NOTHING`, host); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM host_slots WHERE host = ? AND lease_until <= ?`, host, micro(now)); err != nil {
			return err
		}
		var next, notBefore int64
		var held int
		if err := tx.QueryRowContext(ctx, `SELECT next_start, not_before, (SELECT count(*) FROM host_slots WHERE host = ?1) FROM hosts WHERE host = ?1`, host).Scan(&next, &notBefore, &held); err != nil {
			return err
		}
		start := max(micro(now), next, notBefore)
		wait = time.Duration(start-micro(now)) * time.Microsecond
		if held >= concurrency || wait > maxReservation {
			reserved = false
			wait = max(wait-maxReservation, slotWait)
			return nil
		}
		reserved = true
		if _, err := tx.ExecContext(ctx, `INSERT INTO host_slots (token, host, lease_until) VALUES (?, ?, ?)`, token, host, micro(now.Add(wait+lease))); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE hosts SET next_start = ? WHERE host = ?`, start+gap.Microseconds(), host)
		return err
	})
	return reserved, wait, err
}

func (s *SQLite) freeHostSlot(ctx context.Context, token string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM host_slots WHERE token = ?`, token)
		return err
	})
}

func (s *SQLite) deferHost(ctx context.Context, host string, until time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO hosts (host, not_before) VALUES (?1, ?2)
			ON CONFLICT (host) DO UPDATE SET not_before = max(not_before, ?2)`, host, micro(until))
		return err
	})
}

func (p *Postgres) takeHostSlot(ctx context.Context, host, token string, concurrency int, gap, lease time.Duration, now time.Time) (bool, time.Duration, error) {
	var (
		reserved bool
		wait     time.Duration
	)
	err := p.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO hosts (host) VALUES ($1) ON CONFLICT (host) DO NOTHING`, host); err != nil {
			return err
		}
		// The host's row serialises the workers that want it.
		var next, notBefore time.Time
		if err := tx.QueryRow(ctx, `SELECT next_start, not_before FROM hosts WHERE host = $1 FOR UPDATE`, host).Scan(&next, &notBefore); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM host_slots WHERE host = $1 AND lease_until <= $2`, host, pgTime(now)); err != nil {
			return err
		}
		var held int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM host_slots WHERE host = $1`, host).Scan(&held); err != nil {
			return err
		}
		start := now
		for _, t := range []time.Time{next, notBefore} {
			if t.After(start) {
				start = t
			}
		}
		wait = start.Sub(now)
		if held >= concurrency || wait > maxReservation {
			reserved = false
			wait = max(wait-maxReservation, slotWait)
			return nil
		}
		reserved = true
		if _, err := tx.Exec(ctx, `INSERT INTO host_slots (token, host, lease_until) VALUES ($1, $2, $3)`, token, host, pgTime(now.Add(wait+lease))); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE hosts SET next_start = $1 WHERE host = $2`, pgTime(start.Add(gap)), host)
		return err
	})
	return reserved, wait, err
}

func (p *Postgres) freeHostSlot(ctx context.Context, token string) error {
	_, err := p.pool.Exec(ctx, `DELETE FROM host_slots WHERE token = $1`, token)
	return err
}

func (p *Postgres) deferHost(ctx context.Context, host string, until time.Time) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO hosts (host, not_before) VALUES ($1, $2)
		ON CONFLICT (host) DO UPDATE SET not_before = greatest(hosts.not_before, $2)`, host, pgTime(until))
	return err
}
