package store

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// now is the clock of the rule tests: the rules take the time, so the
// tests never read one.
var now = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

const lease = time.Minute

func TestClaimed(t *testing.T) {
	tests := []struct {
		name    string
		stored  Record
		owner   string
		force   bool
		wantErr error
	}{
		{"new story", Record{State: StatePending}, "a", false, nil},
		{"released story", Record{State: StatePending, Attempts: 2}, "a", false, nil},
		{"own claim renews", Record{State: StatePending, Owner: "a", LeaseUntil: now.Add(time.Second)}, "a", false, nil},
		{"another owner's live claim", Record{State: StatePending, Owner: "b", LeaseUntil: now.Add(time.Microsecond)}, "a", false, ErrClaimed},
		{"another owner's lease ending now", Record{State: StatePending, Owner: "b", LeaseUntil: now}, "a", false, nil},
		{"another owner's expired lease", Record{State: StatePending, Owner: "b", LeaseUntil: now.Add(-time.Hour)}, "a", false, nil},
		{"written", Record{State: StateWritten, Path: "a.md"}, "a", false, ErrWritten},
		{"known", Record{State: StateKnown, Path: "a.md"}, "a", false, ErrWritten},
		{"permanent", Record{State: StatePermanent}, "a", false, ErrPermanent},
		{"failed, retry later", Record{State: StateFailed, RetryAt: now.Add(time.Microsecond)}, "a", false, ErrNotDue},
		{"failed, retry now", Record{State: StateFailed, RetryAt: now}, "a", false, nil},
		{"failed, retry passed", Record{State: StateFailed, RetryAt: now.Add(-time.Minute)}, "a", false, nil},
		{"written, another owner's live claim", Record{State: StateWritten, Owner: "b", LeaseUntil: now.Add(time.Hour)}, "a", false, ErrWritten},
		{"forced: written", Record{State: StateWritten, Path: "a.md"}, "a", true, nil},
		{"forced: known", Record{State: StateKnown}, "a", true, nil},
		{"forced: permanent", Record{State: StatePermanent}, "a", true, nil},
		{"forced: failed, retry later", Record{State: StateFailed, RetryAt: now.Add(time.Hour)}, "a", true, nil},
		{"forced: another owner's live claim", Record{State: StateWritten, Owner: "b", LeaseUntil: now.Add(time.Hour)}, "a", true, ErrClaimed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := claimed(tt.stored, tt.owner, lease, now, tt.force)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err: got %v, want %v", err, tt.wantErr)
			}
			want := tt.stored
			if tt.wantErr == nil {
				// Only the claim changes; the state is kept.
				want.Owner, want.LeaseUntil, want.Token = tt.owner, now.Add(lease), tt.stored.Token+1
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestHoldRefusal(t *testing.T) {
	tests := []struct {
		name          string
		holder, owner string
		want          error
	}{
		{"holder", "a", "a", nil},
		{"another owner", "b", "a", ErrNotOwner},
		{"nobody holds it", "", "a", ErrNotOwner},
		{"empty owner, nobody holds it", "", "", ErrNotOwner},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := holdRefusal(tt.holder, tt.owner); !errors.Is(err, tt.want) {
				t.Errorf("holdRefusal(%q, %q): got %v, want %v", tt.holder, tt.owner, err, tt.want)
			}
		})
	}
}

func TestReleased(t *testing.T) {
	r := Record{State: StateFailed, Owner: "a", LeaseUntil: now.Add(lease), Attempts: 1, LastError: "status 503", RetryAt: now}
	want := Record{State: StateFailed, Attempts: 1, LastError: "status 503", RetryAt: now}
	if got := released(r); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestFailed(t *testing.T) {
	retryAt := now.Add(10 * time.Minute)
	claimedBy := func(r Record) Record {
		r.Owner, r.LeaseUntil = "a", now.Add(lease)
		return r
	}
	tests := []struct {
		name      string
		stored    Record
		permanent bool
		want      Record
	}{
		{"transient, first attempt", claimedBy(Record{State: StatePending}), false,
			Record{State: StateFailed, Attempts: 1, LastError: "boom", RetryAt: retryAt}},
		{"transient, again", claimedBy(Record{State: StateFailed, Attempts: 2, LastError: "old", RetryAt: now}), false,
			Record{State: StateFailed, Attempts: 3, LastError: "boom", RetryAt: retryAt}},
		{"permanent", claimedBy(Record{State: StatePending, Attempts: 1}), true,
			Record{State: StatePermanent, Attempts: 2, LastError: "boom"}},
		{"forced rewrite of a written story, transient", claimedBy(Record{State: StateWritten, Path: "a.md", SHA256: "ab"}), false,
			Record{State: StateWritten, Attempts: 1, LastError: "boom", Path: "a.md", SHA256: "ab"}},
		{"forced rewrite of a known story, permanent", claimedBy(Record{State: StateKnown, Path: "a.md"}), true,
			Record{State: StateKnown, Attempts: 1, LastError: "boom", Path: "a.md"}},
		{"forced retry of a permanent failure, transient", claimedBy(Record{State: StatePermanent, Attempts: 1}), false,
			Record{State: StateFailed, Attempts: 2, LastError: "boom", RetryAt: retryAt}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := failed(tt.stored, "boom", tt.permanent, retryAt); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestWritten(t *testing.T) {
	r := Record{State: StateFailed, Owner: "a", LeaseUntil: now.Add(lease), Attempts: 2, LastError: "status 503", RetryAt: now, Path: "a.md"}
	want := Record{State: StateWritten, Attempts: 2, Path: "a.md", SHA256: "ab12"}
	if got := written(r, "a.md", "ab12"); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestKnown(t *testing.T) {
	tests := []struct {
		name   string
		stored Record
		want   Record
		ok     bool
	}{
		{"new story", Record{State: StatePending}, Record{State: StateKnown, Path: "b.md"}, true},
		{"failed story", Record{State: StateFailed, Attempts: 1, LastError: "status 503", RetryAt: now},
			Record{State: StateKnown, Attempts: 1, Path: "b.md"}, true},
		{"claimed story keeps the claim", Record{State: StatePending, Owner: "a", LeaseUntil: now},
			Record{State: StateKnown, Owner: "a", LeaseUntil: now, Path: "b.md"}, true},
		{"written story keeps its path", Record{State: StateWritten, Path: "a.md"}, Record{State: StateWritten, Path: "a.md"}, false},
		{"known story keeps its path", Record{State: StateKnown, Path: "a.md"}, Record{State: StateKnown, Path: "a.md"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := known(tt.stored, "b.md")
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestLearnsSiteKey(t *testing.T) {
	const u = "https://www.zaobao.com/realtime/world/story20211118-1214802"
	tests := []struct {
		stored, met Identity
		want        bool
	}{
		{Identity{URL: u}, Identity{URL: u, SiteKey: "zaobao:1214802"}, true},
		{Identity{URL: u}, Identity{URL: u}, false},
		{Identity{URL: u, SiteKey: "zaobao:1214802"}, Identity{URL: u}, false},
		{Identity{URL: u, SiteKey: "zaobao:1214802"}, Identity{URL: u, SiteKey: "zaobao:1214802"}, false},
	}
	for _, tt := range tests {
		if got := learnsSiteKey(tt.stored, tt.met); got != tt.want {
			t.Errorf("learnsSiteKey(%v, %v): got %v, want %v", tt.stored, tt.met, got, tt.want)
		}
	}
}

func TestCandidateNames(t *testing.T) {
	id := Identity{URL: "https://example.com/a", SiteKey: "zaobao:1214802"}
	names := candidateNames("2026/a.md", id)
	if len(names) != 102 {
		t.Fatalf("got %d names, want 102", len(names))
	}
	hash := names[2][len("2026/a-") : len(names[2])-len(".md")]
	if len(hash) != 8 {
		t.Fatalf("third name %q: want an 8-digit hash suffix", names[2])
	}
	want := []string{"2026/a.md", "2026/a-zaobao-1214802.md", "2026/a-" + hash + ".md", "2026/a-" + hash + "-2.md"}
	if !slices.Equal(names[:4], want) {
		t.Errorf("got %q, want %q", names[:4], want)
	}
	if again := candidateNames("2026/a.md", id); !slices.Equal(again, names) {
		t.Errorf("names differ between calls")
	}
	if other := candidateNames("2026/a.md", Identity{URL: "https://example.com/b"}); other[1] == names[2] {
		t.Errorf("two URLs got the hash suffix %q", other[1])
	}
	if got := candidateNames("notes", Identity{URL: "u"})[1]; !strings.HasPrefix(got, "notes-") || len(got) != len("notes-")+8 {
		t.Errorf("name without .md: got %q, want notes-<hash>", got)
	}
}

func TestFileSafe(t *testing.T) {
	tests := map[string]string{
		"zaobao:1214802": "zaobao-1214802",
		"a::b//c":        "a-b-c",
		":a:":            "a",
		"中文":             "",
		"":               "",
	}
	for in, want := range tests {
		if got := fileSafe(in); got != want {
			t.Errorf("fileSafe(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestFeedClaimed(t *testing.T) {
	tests := []struct {
		name   string
		holder string
		until  time.Time
		owner  string
		want   bool
	}{
		{"new feed", "", time.Time{}, "a", true},
		{"own lease renews", "a", now.Add(time.Second), "a", true},
		{"another owner's live lease", "b", now.Add(time.Microsecond), "a", false},
		{"another owner's lease ending now", "b", now, "a", true},
		{"another owner's expired lease", "b", now.Add(-time.Minute), "a", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			until, gen, ok := feedClaimed(tt.holder, tt.until, 7, tt.owner, lease, now)
			if ok != tt.want {
				t.Fatalf("got %v, want %v", ok, tt.want)
			}
			if ok && !until.Equal(now.Add(lease)) {
				t.Errorf("lease until: got %v, want %v", until, now.Add(lease))
			}
			if wantGen := map[bool]int64{true: 8, false: 7}[ok]; gen != wantGen {
				t.Errorf("generation: got %d, want %d", gen, wantGen)
			}
		})
	}
}

func TestFailureNoted(t *testing.T) {
	first := now.Add(-48 * time.Hour)
	tests := []struct {
		name     string
		prev     Failure
		found    bool
		feedCopy []byte
		want     Failure
	}{
		{"first failure", Failure{}, false, nil, Failure{Since: now}},
		{"first failure with a copy", Failure{}, false, []byte("copy"), Failure{Since: now, FeedCopy: []byte("copy")}},
		{"again, no copy", Failure{Since: first}, true, nil, Failure{Since: first}},
		{"again, a copy", Failure{Since: first}, true, []byte("copy"), Failure{Since: first, FeedCopy: []byte("copy")}},
		{"again, an empty copy keeps the old", Failure{Since: first, FeedCopy: []byte("old")}, true, []byte{}, Failure{Since: first, FeedCopy: []byte("old")}},
		{"again, a newer copy", Failure{Since: first, FeedCopy: []byte("old")}, true, []byte("new"), Failure{Since: first, FeedCopy: []byte("new")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := failureNoted(tt.prev, tt.found, now, tt.feedCopy)
			if !got.Since.Equal(tt.want.Since) || string(got.FeedCopy) != string(tt.want.FeedCopy) {
				t.Errorf("got since %v copy %q, want since %v copy %q", got.Since, got.FeedCopy, tt.want.Since, tt.want.FeedCopy)
			}
		})
	}
}

func TestTakeSlot(t *testing.T) {
	const (
		gap         = 200 * time.Millisecond
		slotLease   = time.Minute
		concurrency = 2
	)
	slot := func(token string, until time.Time) hostSlot { return hostSlot{Token: token, Until: until} }
	reserved := func(wait time.Duration, expired ...string) slotDecision {
		start := now.Add(wait)
		return slotDecision{Reserved: true, Wait: wait, Slot: slot("new", start.Add(slotLease)), NextStart: start.Add(gap), Expired: expired}
	}
	refused := func(wait time.Duration, expired ...string) slotDecision {
		return slotDecision{Wait: wait, Expired: expired}
	}
	tests := []struct {
		name string
		host hostBudgetState
		want slotDecision
	}{
		{"new host", hostBudgetState{}, reserved(0)},
		{"next start passed", hostBudgetState{NextStart: now.Add(-time.Second)}, reserved(0)},
		{"next start now", hostBudgetState{NextStart: now}, reserved(0)},
		{"next start ahead", hostBudgetState{NextStart: now.Add(150 * time.Millisecond)}, reserved(150 * time.Millisecond)},
		{"not before ahead of next start", hostBudgetState{NextStart: now.Add(100 * time.Millisecond), NotBefore: now.Add(300 * time.Millisecond)},
			reserved(300 * time.Millisecond)},
		{"next start ahead of not before", hostBudgetState{NextStart: now.Add(300 * time.Millisecond), NotBefore: now.Add(100 * time.Millisecond)},
			reserved(300 * time.Millisecond)},
		{"start exactly maxReservation away", hostBudgetState{NotBefore: now.Add(maxReservation)}, reserved(maxReservation)},
		{"start just past maxReservation", hostBudgetState{NotBefore: now.Add(maxReservation + time.Microsecond)}, refused(slotWait)},
		{"not before far ahead (Retry-After)", hostBudgetState{NotBefore: now.Add(30 * time.Second)}, refused(29 * time.Second)},
		{"one slot of two held", hostBudgetState{Slots: []hostSlot{slot("x", now.Add(time.Second))}}, reserved(0)},
		{"concurrency reached", hostBudgetState{Slots: []hostSlot{slot("x", now.Add(time.Second)), slot("y", now.Add(time.Microsecond))}},
			refused(slotWait)},
		{"concurrency reached, start far ahead", hostBudgetState{NotBefore: now.Add(5 * time.Second),
			Slots: []hostSlot{slot("x", now.Add(time.Second)), slot("y", now.Add(time.Second))}}, refused(4 * time.Second)},
		{"slot lease ending now is free", hostBudgetState{Slots: []hostSlot{slot("x", now.Add(time.Second)), slot("y", now)}},
			reserved(0, "y")},
		{"expired slots are free", hostBudgetState{Slots: []hostSlot{slot("x", now.Add(-time.Hour)), slot("y", now.Add(-time.Second))}},
			reserved(0, "x", "y")},
		{"expired slots freed when refused", hostBudgetState{NotBefore: now.Add(10 * time.Second),
			Slots: []hostSlot{slot("x", now.Add(-time.Second))}}, refused(9*time.Second, "x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := takeSlot(tt.host, "new", concurrency, gap, slotLease, now)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDeferredUntil(t *testing.T) {
	tests := []struct {
		name             string
		notBefore, until time.Time
		want             time.Time
	}{
		{"new host", time.Time{}, now, now},
		{"later wait", now, now.Add(time.Minute), now.Add(time.Minute)},
		{"earlier wait keeps the longer one", now.Add(time.Minute), now, now.Add(time.Minute)},
		{"same time", now, now, now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deferredUntil(tt.notBefore, tt.until); !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRefetchClaimed(t *testing.T) {
	cut := Record{State: StateWritten, Path: "a.md", Truncated: true, RefetchAt: now}
	with := func(r Record, f func(*Record)) Record { f(&r); return r }
	tests := []struct {
		name    string
		stored  Record
		wantErr error
	}{
		{"due", cut, nil},
		{"past due", with(cut, func(r *Record) { r.RefetchAt = now.Add(-time.Hour) }), nil},
		{"not yet", with(cut, func(r *Record) { r.RefetchAt = now.Add(time.Microsecond) }), ErrNotDue},
		{"re-fetches used up", with(cut, func(r *Record) { r.RefetchAt = time.Time{} }), ErrNoRefetch},
		{"whole post", Record{State: StateWritten, Path: "a.md"}, ErrNoRefetch},
		{"pending", Record{State: StatePending, Truncated: true, RefetchAt: now}, ErrNoRefetch},
		{"known", Record{State: StateKnown, Truncated: true, RefetchAt: now}, ErrNoRefetch},
		{"another owner's live claim", with(cut, func(r *Record) { r.Owner, r.LeaseUntil = "b", now.Add(time.Second) }), ErrClaimed},
		{"another owner's lease ending now", with(cut, func(r *Record) { r.Owner, r.LeaseUntil = "b", now }), nil},
		{"own claim renews", with(cut, func(r *Record) { r.Owner, r.LeaseUntil = "a", now.Add(time.Second) }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := refetchClaimed(tt.stored, "a", lease, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err: got %v, want %v", err, tt.wantErr)
			}
			want := tt.stored
			if tt.wantErr == nil {
				want.Owner, want.LeaseUntil, want.Token = "a", now.Add(lease), tt.stored.Token+1
			}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// TestRefetchCounts: writing a story whose post was truncated, whole or
// cut again, counts a re-fetch, as keeping it does; a first write does not.
func TestRefetchCounts(t *testing.T) {
	claimedBy := func(r Record) Record { r.Owner, r.LeaseUntil = "a", now.Add(lease); return r }
	first := writtenTruncated(claimedBy(Record{State: StatePending}), "a.md", "s1", now.Add(time.Hour))
	if want := (Record{State: StateWritten, Path: "a.md", SHA256: "s1", Truncated: true, RefetchAt: now.Add(time.Hour)}); first != want {
		t.Fatalf("first truncated write: got %+v, want %+v", first, want)
	}
	kept, err := keptTruncated(claimedBy(first), now.Add(2*time.Hour))
	if err != nil || kept.Refetches != 1 || !kept.RefetchAt.Equal(now.Add(2*time.Hour)) || kept.Owner != "" || kept.SHA256 != "s1" {
		t.Errorf("kept: got %+v, %v; want 1 re-fetch, the next at +2h, the post as it was, no owner", kept, err)
	}
	longer := writtenTruncated(claimedBy(kept), "a.md", "s2", now.Add(4*time.Hour))
	if longer.Refetches != 2 || !longer.Truncated || longer.SHA256 != "s2" {
		t.Errorf("longer copy: got %+v; want 2 re-fetches, truncated, s2", longer)
	}
	whole := written(claimedBy(longer), "a.md", "s3")
	if whole.Refetches != 3 || whole.Truncated || !whole.RefetchAt.IsZero() || whole.Owner != "" {
		t.Errorf("whole copy: got %+v; want 3 re-fetches, whole, none waiting", whole)
	}
	if again := written(claimedBy(whole), "a.md", "s4"); again.Refetches != 3 {
		t.Errorf("forced rewrite of a whole post: got %d re-fetches, want 3", again.Refetches)
	}
	if _, err := keptTruncated(claimedBy(whole), now); !errors.Is(err, ErrNoRefetch) {
		t.Errorf("keeping a whole post: got %v, want ErrNoRefetch", err)
	}
}

func TestFencing(t *testing.T) {
	r, err := claimed(Record{State: StatePending, Token: 4}, "a", lease, now, false)
	if err != nil || r.Token != 5 {
		t.Fatalf("claim: got token %d, %v; want 5, nil", r.Token, err)
	}
	// The holder claiming again (another goroutine, a retry) takes a new
	// generation too: the first claim's token is stale.
	again, err := claimed(r, "a", lease, now, false)
	if err != nil || again.Token != 6 {
		t.Fatalf("claim again: got token %d, %v; want 6, nil", again.Token, err)
	}
	if _, err := renewed(again, "a", 5, lease, now.Add(time.Second)); !errors.Is(err, ErrNotOwner) {
		t.Errorf("renew with a stale token: got %v, want ErrNotOwner", err)
	}
	if _, err := renewed(again, "b", 6, lease, now); !errors.Is(err, ErrNotOwner) {
		t.Errorf("renew by another owner: got %v, want ErrNotOwner", err)
	}
	later := now.Add(time.Minute)
	ren, err := renewed(again, "a", 6, lease, later)
	if err != nil || !ren.LeaseUntil.Equal(later.Add(lease)) || ren.Token != 6 {
		t.Errorf("renew: got until %v token %d, %v; want %v 6 nil", ren.LeaseUntil, ren.Token, err, later.Add(lease))
	}
	rf, err := refetchClaimed(Record{State: StateWritten, Truncated: true, RefetchAt: now, Token: 9}, "a", lease, now)
	if err != nil || rf.Token != 10 {
		t.Errorf("re-fetch claim: got token %d, %v; want 10, nil", rf.Token, err)
	}
}

func TestDecisionTime(t *testing.T) {
	clock := func() (time.Time, error) { return now.Add(time.Hour), nil }
	if got, _ := decisionTime(now, clock); !got.Equal(now) {
		t.Errorf("given a time: got %v, want %v", got, now)
	}
	if got, _ := decisionTime(time.Time{}, clock); !got.Equal(now.Add(time.Hour)) {
		t.Errorf("zero time: got %v, want the store's clock %v", got, now.Add(time.Hour))
	}
}
