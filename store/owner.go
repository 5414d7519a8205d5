package store

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
)

// NewOwner returns a name for one worker of this process, unique among
// workers: "host:pid:start:random", start being when the process started.
// Store uses them to take over at once the claims of a worker of this host
// whose process is gone.
func NewOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	pid := os.Getpid()
	return host + ":" + strconv.Itoa(pid) + ":" + processStart(pid) + ":" + hex.EncodeToString(b[:])
}

// deadLocalOwner reports whether owner (named by NewOwner) is a worker of
// a process of this host that no longer runs: its process id is unused, or
// used by a process that started at another time (the id was reused, as
// it is by a container restarted with the same host name). An owner of
// another host, or named otherwise, is never dead to us: its lease decides.
func deadLocalOwner(owner string) bool {
	parts := strings.Split(owner, ":")
	if len(parts) < 4 {
		return false
	}
	n := len(parts)
	host, start := strings.Join(parts[:n-3], ":"), parts[n-2]
	pid, err := strconv.Atoi(parts[n-3])
	if err != nil || pid <= 0 {
		return false
	}
	thisHost, err := os.Hostname()
	if err != nil || thisHost == "" {
		thisHost = "host"
	}
	if host != thisHost {
		return false
	}
	if !alive(pid) {
		return true
	}
	now := processStart(pid)
	return start != "" && now != "" && now != start
}

// processStart is when process pid started, in clock ticks since boot
// (field 22 of /proc/pid/stat), or "" where that cannot be read.
func processStart(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return ""
	}
	return fields[19]
}
