package store

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// migration is one schema change, from a file named NNNN_what.sql: the
// number is its version, applied in order and recorded in the
// schema_migrations table of each backend.
type migration struct {
	version int
	name    string // the file name, as Migrate reports it
	script  string
}

// readMigrations returns the migrations in dir of fsys, by version.
func readMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var migs []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		prefix, _, _ := strings.Cut(e.Name(), "_")
		version, err := strconv.Atoi(prefix)
		if err != nil || version <= 0 {
			return nil, fmt.Errorf("read migrations: %s: no version number", e.Name())
		}
		if n := len(migs); n > 0 && migs[n-1].version >= version {
			return nil, fmt.Errorf("read migrations: %s: version %d repeated or out of order", e.Name(), version)
		}
		script, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migrations: %w", err)
		}
		migs = append(migs, migration{version: version, name: e.Name(), script: string(script)})
	}
	return migs, nil
}
