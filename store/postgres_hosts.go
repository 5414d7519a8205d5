package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// hostBudget loads host's share of the politeness budget, creating it when
// new, and locks the host's row until the transaction ends: the row
// serialises the workers that want the host.
func (p *Postgres) hostBudget(ctx context.Context, tx pgx.Tx, host string) (hostBudgetState, error) {
	var h hostBudgetState
	if _, err := tx.Exec(ctx, `INSERT INTO hosts (host) VALUES ($1) ON CONFLICT (host) DO NOTHING`, host); err != nil {
		return h, err
	}
	if err := tx.QueryRow(ctx, `SELECT next_start, not_before FROM hosts WHERE host = $1 FOR UPDATE`, host).Scan(&h.NextStart, &h.NotBefore); err != nil {
		return h, err
	}
	rows, _ := tx.Query(ctx, `SELECT token, lease_until FROM host_slots WHERE host = $1`, host)
	slots, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (hostSlot, error) {
		var s hostSlot
		err := r.Scan(&s.Token, &s.Until)
		return s, err
	})
	h.Slots = slots
	return h, err
}

func (p *Postgres) takeHostSlot(ctx context.Context, host, token string, concurrency int, gap, lease time.Duration, now time.Time) (bool, time.Duration, error) {
	var d slotDecision
	err := p.write(ctx, func(tx pgx.Tx) error {
		h, err := p.hostBudget(ctx, tx, host)
		if err != nil {
			return err
		}
		at, err := decisionTime(now, pgClock(ctx, tx))
		if err != nil {
			return err
		}
		d = takeSlot(h, token, concurrency, gap, lease, at)
		if len(d.Expired) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM host_slots WHERE token = ANY($1)`, d.Expired); err != nil {
				return err
			}
		}
		if !d.Reserved {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO host_slots (token, host, lease_until) VALUES ($1, $2, $3)`,
			d.Slot.Token, host, pgTime(d.Slot.Until)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE hosts SET next_start = $1 WHERE host = $2`, pgTime(d.NextStart), host)
		return err
	})
	return d.Reserved, d.Wait, err
}

func (p *Postgres) freeHostSlot(ctx context.Context, token string) error {
	_, err := p.pool.Exec(ctx, `DELETE FROM host_slots WHERE token = $1`, token)
	return err
}

func (p *Postgres) deferHost(ctx context.Context, host string, wait time.Duration, now time.Time) error {
	return p.write(ctx, func(tx pgx.Tx) error {
		h, err := p.hostBudget(ctx, tx, host)
		if err != nil {
			return err
		}
		at, err := decisionTime(now, pgClock(ctx, tx))
		if err != nil {
			return err
		}
		until := at.Add(wait)
		_, err = tx.Exec(ctx, `UPDATE hosts SET not_before = $1 WHERE host = $2`, pgTime(deferredUntil(h.NotBefore, until)), host)
		return err
	})
}
