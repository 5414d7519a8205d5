package store_test

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/store"
)

var (
	zaobao2 = store.Identity{URL: "https://www.zaobao.com/realtime/world/story20211118-2", SiteKey: "zaobao:2"}
	zaobao3 = store.Identity{URL: "https://www.zaobao.com/realtime/world/story20211118-3", SiteKey: "zaobao:3"}
)

// deadOwner names a worker of a process of this host that has ended.
func deadOwner(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return host + ":" + strconv.Itoa(cmd.Process.Pid) + ":1:dead"
}

// liveOwner names a worker of a running process of this host.
func liveOwner(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(cmd.Process.Pid) + ":" + startOf(t, cmd.Process.Pid) + ":live"
}

func TestClaimTakesOverDeadLocalOwner(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	me := store.NewOwner()
	dead, live := deadOwner(t), liveOwner(t)
	other := "elsewhere:1:x" // another host: only its lease counts

	for _, c := range []struct {
		id    store.Identity
		owner string
	}{{zaobao1, dead}, {zaobao2, live}, {zaobao3, other}} {
		if _, err := s.Claim(ctx, c.id, c.owner, 10*time.Minute, t0); err != nil {
			t.Fatal(err)
		}
	}
	if rec, err := s.Claim(ctx, zaobao1, me, 10*time.Minute, t0.Add(time.Second)); err != nil || rec.Owner != me {
		t.Errorf("dead owner's story: got %q, %v; want taken over by %s", rec.Owner, err, me)
	}
	for _, id := range []store.Identity{zaobao2, zaobao3} {
		if _, err := s.Claim(ctx, id, me, 10*time.Minute, t0.Add(time.Second)); !errors.Is(err, store.ErrClaimed) {
			t.Errorf("%s: got %v, want ErrClaimed (its owner may be alive)", id.URL, err)
		}
	}
	if rec, err := s.ForceClaim(ctx, zaobao1, "x", 10*time.Minute, t0.Add(2*time.Second)); !errors.Is(err, store.ErrClaimed) || rec.Owner != me {
		t.Errorf("live claim taken: got %q, %v", rec.Owner, err)
	}

	const feed = "https://rsshub.example/zaobao/realtime/world"
	if ok, err := s.ClaimFeed(ctx, feed, dead, 10*time.Minute, t0); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, err := s.ClaimFeed(ctx, feed, me, 10*time.Minute, t0.Add(time.Second)); err != nil || !ok {
		t.Errorf("dead owner's feed: got %v, %v; want taken over", ok, err)
	}
	if ok, err := s.ClaimFeed(ctx, feed, live, 10*time.Minute, t0.Add(2*time.Second)); err != nil || ok {
		t.Errorf("live owner's feed: got %v, %v; want refused", ok, err)
	}
}

// startOf reads a process's start time as NewOwner records it.
func startOf(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Skip("no /proc here:", err)
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return fields[19]
}

func TestNewOwnerIsNotDead(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	a, b := store.NewOwner(), store.NewOwner()
	if a == b {
		t.Fatalf("NewOwner twice: %s both times", a)
	}
	if _, err := s.Claim(ctx, zaobao1, a, time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, zaobao1, b, time.Minute, t0); !errors.Is(err, store.ErrClaimed) {
		t.Errorf("another worker of this live process: got %v, want ErrClaimed", err)
	}
	// The same process id with another start time is a process that
	// ended (a restarted container reuses its pid).
	parts := strings.Split(a, ":")
	parts[len(parts)-2] = "1"
	earlier := strings.Join(parts, ":")
	if _, err := s.Claim(ctx, zaobao3, earlier, time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	if rec, err := s.Claim(ctx, zaobao3, b, time.Minute, t0); err != nil || rec.Owner != b {
		t.Errorf("earlier life of this pid: got %q, %v; want taken over", rec.Owner, err)
	}
}
