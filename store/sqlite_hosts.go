package store

import (
	"context"
	"time"
)

// hostBudget loads host's share of the politeness budget, creating it when
// new.
func (s *SQLite) hostBudget(ctx context.Context, tx *wtx, host string) (hostBudgetState, error) {
	var h hostBudgetState
	if _, err := tx.ExecContext(ctx, `INSERT INTO hosts (host) VALUES (?) ON CONFLICT (host) DO NOTHING`, host); err != nil {
		return h, err
	}
	var next, notBefore int64
	if err := tx.QueryRowContext(ctx, `SELECT next_start, not_before FROM hosts WHERE host = ?`, host).Scan(&next, &notBefore); err != nil {
		return h, err
	}
	h.NextStart, h.NotBefore = fromMicro(next), fromMicro(notBefore)
	rows, err := tx.QueryContext(ctx, `SELECT token, lease_until FROM host_slots WHERE host = ?`, host)
	if err != nil {
		return h, err
	}
	defer rows.Close()
	for rows.Next() {
		var slot hostSlot
		var until int64
		if err := rows.Scan(&slot.Token, &until); err != nil {
			return h, err
		}
		slot.Until = fromMicro(until)
		h.Slots = append(h.Slots, slot)
	}
	return h, rows.Err()
}

func (s *SQLite) takeHostSlot(ctx context.Context, host, token string, concurrency int, gap, lease time.Duration, now time.Time) (bool, time.Duration, error) {
	var d slotDecision
	// The write transaction holds the file's lock: no other worker reads
	// the budget until this one is stored.
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		h, err := s.hostBudget(ctx, tx, host)
		if err != nil {
			return err
		}
		at, err := decisionTime(now, s.clock)
		if err != nil {
			return err
		}
		d = takeSlot(h, token, concurrency, gap, lease, at)
		for _, expired := range d.Expired {
			if _, err := tx.ExecContext(ctx, `DELETE FROM host_slots WHERE token = ?`, expired); err != nil {
				return err
			}
		}
		if !d.Reserved {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO host_slots (token, host, lease_until) VALUES (?, ?, ?)`,
			d.Slot.Token, host, micro(d.Slot.Until)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE hosts SET next_start = ? WHERE host = ?`, micro(d.NextStart), host)
		return err
	})
	return d.Reserved, d.Wait, err
}

func (s *SQLite) freeHostSlot(ctx context.Context, token string) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM host_slots WHERE token = ?`, token)
		return err
	})
}

func (s *SQLite) deferHost(ctx context.Context, host string, wait time.Duration, now time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		h, err := s.hostBudget(ctx, tx, host)
		if err != nil {
			return err
		}
		at, err := decisionTime(now, s.clock)
		if err != nil {
			return err
		}
		until := at.Add(wait)
		_, err = tx.ExecContext(ctx, `UPDATE hosts SET not_before = ? WHERE host = ?`, micro(deferredUntil(h.NotBefore, until)), host)
		return err
	})
}
