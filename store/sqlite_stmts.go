package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmts keeps the statements of one *sql.DB (or one *sql.Conn) prepared
// once, by query text, so that SQLite parses each query once per
// connection instead of at every call.
type stmts struct {
	prep interface {
		PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
	}
	mu  sync.Mutex
	all map[string]*sql.Stmt
}

func newStmts(prep interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}) *stmts {
	return &stmts{prep: prep, all: map[string]*sql.Stmt{}}
}

// get returns query's statement, preparing it the first time.
func (c *stmts) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.all[query]; ok {
		return st, nil
	}
	st, err := c.prep.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.all[query] = st
	return st, nil
}

func (c *stmts) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.all {
		errs = append(errs, st.Close())
	}
	c.all = nil
	return errors.Join(errs...)
}

// QueryRowContext runs query with its prepared statement: a querier for
// the read pool. A statement that does not prepare is run unprepared, so
// that its error reaches the caller through the row.
func (c *stmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.get(ctx, query)
	if err != nil {
		return c.prep.(interface {
			QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
		}).QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// QueryContext runs query with its prepared statement.
func (c *stmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// wtx is the write transaction commitLoop holds open on the writer's
// connection (BEGIN IMMEDIATE ... COMMIT, issued by hand so that the
// statements prepared on that connection serve every transaction:
// database/sql would prepare them again in each *sql.Tx).
type wtx struct {
	conn *sql.Conn
	c    *stmts
}

func (t *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := t.c.get(ctx, query)
	if err != nil {
		return t.conn.QueryRowContext(ctx, query, args...) // carries the error
	}
	return st.QueryRowContext(ctx, args...)
}

func (t *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := t.c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}
