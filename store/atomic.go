package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// WriteFile writes data to path atomically: into a temporary file in the
// same folder, synced, then renamed over path, and the folder synced. A
// crash at any point leaves either the old file or the new one, never a
// partial file; a failed write (a full disk) leaves no temporary file.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(filepath.Dir(path), path, data, perm)
	if err != nil {
		return err
	}
	if err := renameInto(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// TempFolder is the folder, in the archive folder, where Publish writes
// posts before renaming them into place: the only folder the daemon's
// housekeeping lists (Store.CleanTemp), however many posts the archive
// holds. Its name starts with a dot, which Jekyll and Hugo skip.
const TempFolder = ".newsmd-tmp"

// writeTemp is the first half of WriteFile: data in a synced temporary
// file in tmpDir, which must be on path's file system (renameInto tells
// when it is not), and whose name it returns. A failed write leaves no
// temporary file.
func writeTemp(tmpDir, path string, data []byte, perm os.FileMode) (string, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if tmpDir != dir {
		if err := os.MkdirAll(tmpDir, 0o755); err != nil {
			return "", fmt.Errorf("write %s: %w", path, err)
		}
	}
	tmp, err := os.CreateTemp(tmpDir, tempPrefix()+"*.tmp")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	done = true
	return tmp.Name(), nil
}

// renameInto is the second half of WriteFile: the temporary file tmp
// renamed over path, and the folder synced. When tmp is on another file
// system than path (a folder of the archive mounted from elsewhere) the
// error wraps syscall.EXDEV and tmp stays; the caller writes the file
// again beside path.
func renameInto(tmp, path string) error {
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// The rename is durable once the folder's entry is on disk.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// tempPrefix names this process's temporary files, so that CleanTemp can
// tell a dead writer's leftovers from a live one's work in progress.
func tempPrefix() string {
	return ".newsmd-" + hostName() + "-" + strconv.Itoa(os.Getpid()) + "-"
}

func hostName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "host"
	}
	return strings.NewReplacer("-", "_", "/", "_", ".", "_").Replace(h)
}

// CleanTemp removes, from the folder dir, the temporary files of writers
// that were killed before they could rename them: files of this host whose
// process is gone, and any older than maxAge (other hosts on a shared
// volume). A killed writer's post was never marked written, so its story
// is written again; the leftovers are all that is lost. It returns how
// many it removed. Store.CleanTemp cleans the archive's TempFolder.
func CleanTemp(dir string, maxAge time.Duration) (int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("clean %s: %w", dir, err)
	}
	host := hostName()
	removed := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, ".newsmd-") || !strings.HasSuffix(name, ".tmp") {
			continue
		}
		dead := false
		if parts := strings.SplitN(strings.TrimPrefix(name, ".newsmd-"), "-", 3); len(parts) == 3 && parts[0] == host {
			if pid, err := strconv.Atoi(parts[1]); err == nil && !alive(pid) {
				dead = true
			}
		}
		if !dead {
			info, err := e.Info()
			dead = err == nil && time.Since(info.ModTime()) > maxAge
		}
		if dead {
			if err := os.Remove(filepath.Join(dir, name)); err == nil {
				removed++
			}
		}
	}
	return removed, nil
}

// alive reports whether a process with this id exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
