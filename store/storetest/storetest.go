package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/store"
)

// t0 is the suite's clock origin. Times are whole seconds: backends keep
// microseconds.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

const lease = time.Minute

// Run runs the suite. open returns a new, empty backend for each call and
// closes it when the test ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b store.Backend)
	}{
		{"Identity", testIdentity},
		{"IdentityLearnsSiteKey", testIdentityLearnsSiteKey},
		{"Claim", testClaim},
		{"Ownership", testOwnership},
		{"MarkWritten", testMarkWritten},
		{"MarkFailedTransient", testMarkFailedTransient},
		{"MarkFailedPermanent", testMarkFailedPermanent},
		{"MarkFailedForcedRewrite", testMarkFailedForcedRewrite},
		{"ReservePath", testReservePath},
		{"ReservePathKeepsName", testReservePathKeepsName},
		{"MarkKnown", testMarkKnown},
		{"Due", testDue},
		{"FeedState", testFeedState},
		{"ClaimFeed", testClaimFeed},
		{"FeedOwner", testFeedOwner},
		{"NoteFailure", testNoteFailure},
		{"Refetch", testRefetch},
		{"RefetchRefusals", testRefetchRefusals},
		{"ConcurrentRefetchClaims", testConcurrentRefetchClaims},
		{"ConcurrentClaims", testConcurrentClaims},
		{"ConcurrentReservePath", testConcurrentReservePath},
		{"Stats", testStats},
		{"Ping", testPing},
		{"FencedPublish", testFencedPublish},
		{"Renew", testRenew},
		{"FeedFence", testFeedFence},
		{"StoreClock", testStoreClock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// story returns the identity of a zaobao story with its site key.
func story(n int) store.Identity {
	return store.Identity{
		URL:     fmt.Sprintf("https://www.zaobao.com/realtime/world/story20211118-%d", n),
		SiteKey: fmt.Sprintf("zaobao:%d", n),
	}
}

// page returns the identity of a page without a site key.
func page(n int) store.Identity {
	return store.Identity{URL: fmt.Sprintf("https://example.com/news/%d", n)}
}

// fileName returns a post name of its own for id.
func fileName(prefix string, id store.Identity) string {
	return prefix + "-" + path.Base(id.URL) + ".md"
}

func mustClaim(t *testing.T, b store.Backend, id store.Identity, owner string, now time.Time) store.Record {
	t.Helper()
	rec, err := b.Claim(t.Context(), id, owner, lease, now)
	if err != nil {
		t.Fatalf("Claim(%v, %s): %v", id, owner, err)
	}
	return rec
}

func mustLookup(t *testing.T, b store.Backend, id store.Identity) store.Record {
	t.Helper()
	rec, ok, err := b.Lookup(t.Context(), id)
	if err != nil || !ok {
		t.Fatalf("Lookup(%v): got %v, %v; want the story", id, ok, err)
	}
	return rec
}

func check(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func testIdentity(t *testing.T, b store.Backend) {
	const (
		u1 = "https://www.zaobao.com/realtime/world/story20211118-1214802"
		u2 = "https://www.zaobao.com/news/world/story20211118-1214802"
		k1 = "zaobao:1214802"
		k2 = "zaobao:1214803"
	)
	tests := []struct {
		name          string
		stored, query store.Identity
		same          bool
	}{
		{"URL variants with one SiteKey", store.Identity{URL: u1, SiteKey: k1}, store.Identity{URL: u2, SiteKey: k1}, true},
		{"same URL, no SiteKeys", store.Identity{URL: u1}, store.Identity{URL: u1}, true},
		{"same URL, SiteKey on the query only", store.Identity{URL: u1}, store.Identity{URL: u1, SiteKey: k1}, true},
		{"same URL, SiteKey on the stored story only", store.Identity{URL: u1, SiteKey: k1}, store.Identity{URL: u1}, true},
		{"same URL, different SiteKeys", store.Identity{URL: u1, SiteKey: k1}, store.Identity{URL: u1, SiteKey: k2}, false},
		{"different URLs, no SiteKeys", store.Identity{URL: u1}, store.Identity{URL: u2}, false},
		{"different URLs, SiteKey on one side", store.Identity{URL: u1, SiteKey: k1}, store.Identity{URL: u2}, false},
		{"different URLs, different SiteKeys", store.Identity{URL: u1, SiteKey: k1}, store.Identity{URL: u2, SiteKey: k2}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case uses its own URLs, so cases share the backend.
			stored, query := tt.stored, tt.query
			suffix := fmt.Sprintf("?case=%d", i)
			stored.URL += suffix
			query.URL += suffix
			if stored.SiteKey != "" {
				stored.SiteKey += suffix
			}
			if query.SiteKey != "" {
				query.SiteKey += suffix
			}
			mustClaim(t, b, stored, "a", t0)
			rec, ok, err := b.Lookup(t.Context(), query)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.same {
				t.Fatalf("Lookup(%v) after storing %v: got found=%v, want %v", query, stored, ok, tt.same)
			}
			if ok && rec.ID.URL != stored.URL {
				t.Errorf("ID.URL: got %s, want the first URL %s", rec.ID.URL, stored.URL)
			}
			_, err = b.Claim(t.Context(), query, "b", lease, t0)
			if tt.same && !errors.Is(err, store.ErrClaimed) {
				t.Errorf("Claim of the same story by another owner: got %v, want ErrClaimed", err)
			}
			if !tt.same && err != nil {
				t.Errorf("Claim of a different story: got %v, want nil", err)
			}
		})
	}
	if _, ok, err := b.Lookup(t.Context(), page(999)); ok || err != nil {
		t.Errorf("Lookup of an unknown story: got %v, %v; want false, nil", ok, err)
	}
	if _, err := b.Claim(t.Context(), store.Identity{SiteKey: "zaobao:1"}, "a", lease, t0); err == nil {
		t.Errorf("Claim without a URL: got nil, want an error")
	}
}

// testIdentityLearnsSiteKey: a story first met without its SiteKey takes
// the key when it is met with one, and a URL variant met once with the key
// is known by that URL afterwards even without it.
func testIdentityLearnsSiteKey(t *testing.T, b store.Backend) {
	ctx := t.Context()
	plain := store.Identity{URL: "https://www.zaobao.com/realtime/world/story20211118-1214802"}
	keyed := store.Identity{URL: plain.URL, SiteKey: "zaobao:1214802"}
	variant := store.Identity{URL: "https://www.zaobao.com/news/world/story20211118-1214802", SiteKey: keyed.SiteKey}

	mustClaim(t, b, plain, "a", t0)
	mustClaim(t, b, keyed, "a", t0)
	if rec := mustLookup(t, b, variant); rec.ID != keyed {
		t.Errorf("ID: got %v, want %v", rec.ID, keyed)
	}
	mustClaim(t, b, variant, "a", t0)
	if rec := mustLookup(t, b, store.Identity{URL: variant.URL}); rec.ID != keyed {
		t.Errorf("variant without key: got %v, want %v", rec.ID, keyed)
	}
	st, err := b.Stats(ctx)
	check(t, "Stats", err)
	if st.Pending != 1 {
		t.Errorf("stories: got %d pending, want 1", st.Pending)
	}
}

func testClaim(t *testing.T, b store.Backend) {
	ctx := t.Context()
	later := t0.Add(time.Hour)
	tests := []struct {
		name    string
		setup   func(t *testing.T, id store.Identity) // brings the story to a state, at t0
		at      time.Time
		force   bool
		wantErr error
	}{
		{"new story", nil, t0, false, nil},
		{"claimed by another", claimedBy(b, "a"), t0.Add(lease - time.Second), false, store.ErrClaimed},
		{"claimed by another, forced", claimedBy(b, "a"), t0, true, store.ErrClaimed},
		{"claimed by another, lease ended", claimedBy(b, "a"), t0.Add(lease), false, nil},
		{"claimed by oneself", claimedBy(b, "b"), t0.Add(time.Second), false, nil},
		{"released", func(t *testing.T, id store.Identity) {
			mustClaim(t, b, id, "a", t0)
			check(t, "Release", b.Release(ctx, id, "a"))
		}, t0, false, nil},
		{"written", written(b), later, false, store.ErrWritten},
		{"written, forced", written(b), later, true, nil},
		{"known", func(t *testing.T, id store.Identity) {
			check(t, "MarkKnown", b.MarkKnown(ctx, id, fileName("known", id)))
		}, later, false, store.ErrWritten},
		{"known, forced", func(t *testing.T, id store.Identity) {
			check(t, "MarkKnown", b.MarkKnown(ctx, id, fileName("known", id)))
		}, later, true, nil},
		{"failed permanently", failed(b, true), later, false, store.ErrPermanent},
		{"failed permanently, forced", failed(b, true), later, true, nil},
		{"failed, before retry time", failed(b, false), t0.Add(30 * time.Minute), false, store.ErrNotDue},
		{"failed, before retry time, forced", failed(b, false), t0.Add(30 * time.Minute), true, nil},
		{"failed, at retry time", failed(b, false), later, false, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := story(i)
			if tt.setup != nil {
				tt.setup(t, id)
			}
			before, _, err := b.Lookup(ctx, id)
			check(t, "Lookup", err)
			claim := b.Claim
			if tt.force {
				claim = b.ForceClaim
			}
			rec, err := claim(ctx, id, "b", lease, tt.at)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if rec.ID != id || rec.State != before.State {
					t.Errorf("refused claim's record: got %v %s, want %v %s", rec.ID, rec.State, id, before.State)
				}
				if after := mustLookup(t, b, id); after != before {
					t.Errorf("refused claim changed the story: got %+v, want %+v", after, before)
				}
				return
			}
			if rec.Owner != "b" || !rec.LeaseUntil.Equal(tt.at.Add(lease)) {
				t.Errorf("claim: got owner %q until %v, want b until %v", rec.Owner, rec.LeaseUntil, tt.at.Add(lease))
			}
			if rec.State != before.State && before.State != "" {
				t.Errorf("claim changed the state: got %s, want %s", rec.State, before.State)
			}
			if got := mustLookup(t, b, id); got != rec {
				t.Errorf("Lookup after claim: got %+v, want %+v", got, rec)
			}
		})
	}
	if _, err := b.Claim(ctx, story(100), "", lease, t0); err == nil {
		t.Errorf("Claim with an empty owner: got nil, want an error")
	}
}

func claimedBy(b store.Backend, owner string) func(t *testing.T, id store.Identity) {
	return func(t *testing.T, id store.Identity) {
		t.Helper()
		mustClaim(t, b, id, owner, t0)
	}
}

func written(b store.Backend) func(t *testing.T, id store.Identity) {
	return func(t *testing.T, id store.Identity) {
		t.Helper()
		mustClaim(t, b, id, "a", t0)
		path, err := b.ReservePath(t.Context(), id, "a", fileName("post", id))
		check(t, "ReservePath", err)
		check(t, "MarkWritten", b.MarkWritten(t.Context(), id, "a", path, "00ff"))
	}
}

func failed(b store.Backend, permanent bool) func(t *testing.T, id store.Identity) {
	return func(t *testing.T, id store.Identity) {
		t.Helper()
		mustClaim(t, b, id, "a", t0)
		check(t, "MarkFailed", b.MarkFailed(t.Context(), id, "a", "status 500", permanent, t0.Add(time.Hour)))
	}
}

// testOwnership: every step after Claim needs the claim.
func testOwnership(t *testing.T, b store.Backend) {
	ctx := t.Context()
	steps := []struct {
		name string
		call func(id store.Identity, owner string) error
	}{
		{"Release", func(id store.Identity, owner string) error { return b.Release(ctx, id, owner) }},
		{"MarkFailed", func(id store.Identity, owner string) error {
			return b.MarkFailed(ctx, id, owner, "timeout", false, t0.Add(time.Hour))
		}},
		{"ReservePath", func(id store.Identity, owner string) error {
			_, err := b.ReservePath(ctx, id, owner, fileName("reserved", id))
			return err
		}},
		{"MarkWritten", func(id store.Identity, owner string) error {
			return b.MarkWritten(ctx, id, owner, fileName("written", id), "00ff")
		}},
	}
	for i, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			id := story(i)
			if err := step.call(id, "a"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("unknown story: got %v, want ErrNotFound", err)
			}
			mustClaim(t, b, id, "a", t0)
			if err := step.call(id, "b"); !errors.Is(err, store.ErrNotOwner) {
				t.Errorf("another owner: got %v, want ErrNotOwner", err)
			}
			if err := step.call(id, ""); !errors.Is(err, store.ErrNotOwner) {
				t.Errorf("empty owner: got %v, want ErrNotOwner", err)
			}
			// The lease ends and b takes the story over: a has lost it.
			mustClaim(t, b, id, "b", t0.Add(lease))
			if err := step.call(id, "a"); !errors.Is(err, store.ErrNotOwner) {
				t.Errorf("owner whose claim was taken over: got %v, want ErrNotOwner", err)
			}
			if err := step.call(id, "b"); err != nil {
				t.Errorf("owner: got %v, want nil", err)
			}
		})
	}
	// An owner whose lease ended keeps the claim until someone takes it.
	id := story(10)
	mustClaim(t, b, id, "a", t0)
	path, err := b.ReservePath(ctx, id, "a", "late.md")
	check(t, "ReservePath", err)
	check(t, "MarkWritten after the lease", b.MarkWritten(ctx, id, "a", path, "00ff"))
}

func testMarkWritten(t *testing.T, b store.Backend) {
	ctx := t.Context()
	id := story(1)
	mustClaim(t, b, id, "a", t0)
	path, err := b.ReservePath(ctx, id, "a", "2021-11-18-日本长期失业者人数上升.md")
	check(t, "ReservePath", err)
	check(t, "MarkWritten", b.MarkWritten(ctx, id, "a", path, "abc123"))
	rec := mustLookup(t, b, id)
	want := store.Record{ID: id, State: store.StateWritten, Path: "2021-11-18-日本长期失业者人数上升.md", SHA256: "abc123", Token: 1}
	if rec != want {
		t.Errorf("got %+v, want %+v", rec, want)
	}
	for _, owner := range []string{"a", "b"} {
		got, err := b.Claim(ctx, id, owner, lease, t0.Add(24*time.Hour))
		if !errors.Is(err, store.ErrWritten) || got.Path != want.Path {
			t.Errorf("Claim by %s: got %v with path %q, want ErrWritten with %q", owner, err, got.Path, want.Path)
		}
	}
	// backfill --force rewrites in place.
	_, err = b.ForceClaim(ctx, id, "b", lease, t0.Add(time.Hour))
	check(t, "ForceClaim", err)
	again, err := b.ReservePath(ctx, id, "b", "2021-11-18-a new title.md")
	check(t, "ReservePath", err)
	if again != want.Path {
		t.Errorf("forced rewrite: got path %q, want %q", again, want.Path)
	}
	check(t, "MarkWritten", b.MarkWritten(ctx, id, "b", again, "def456"))
	if rec := mustLookup(t, b, id); rec.SHA256 != "def456" || rec.State != store.StateWritten || rec.Owner != "" {
		t.Errorf("after rewrite: got %+v, want written with def456 and no owner", rec)
	}
}

func testMarkFailedTransient(t *testing.T, b store.Backend) {
	ctx := t.Context()
	id := story(1)
	retry := t0.Add(time.Hour)
	mustClaim(t, b, id, "a", t0)
	check(t, "MarkFailed", b.MarkFailed(ctx, id, "a", "status 503", false, retry))
	rec := mustLookup(t, b, id)
	want := store.Record{ID: id, State: store.StateFailed, Attempts: 1, LastError: "status 503", RetryAt: retry, Token: 1}
	if rec != want {
		t.Errorf("got %+v, want %+v", rec, want)
	}
	if due, err := b.Due(ctx, retry.Add(-time.Second), 10); err != nil || len(due) != 0 {
		t.Errorf("Due before the retry time: got %v, %v; want none", due, err)
	}
	if _, err := b.Claim(ctx, id, "a", lease, retry.Add(-time.Second)); !errors.Is(err, store.ErrNotDue) {
		t.Errorf("Claim before the retry time: got %v, want ErrNotDue", err)
	}
	due, err := b.Due(ctx, retry, 10)
	if err != nil || len(due) != 1 || due[0] != want {
		t.Fatalf("Due at the retry time: got %+v, %v; want [%+v]", due, err, want)
	}
	mustClaim(t, b, id, "b", retry)
	check(t, "MarkFailed", b.MarkFailed(ctx, id, "b", "timeout", false, retry.Add(2*time.Hour)))
	if rec := mustLookup(t, b, id); rec.Attempts != 2 || rec.LastError != "timeout" {
		t.Errorf("second failure: got %d attempts, %q; want 2, timeout", rec.Attempts, rec.LastError)
	}
	mustClaim(t, b, id, "c", retry.Add(2*time.Hour))
	path, err := b.ReservePath(ctx, id, "c", "x.md")
	check(t, "ReservePath", err)
	check(t, "MarkWritten", b.MarkWritten(ctx, id, "c", path, "00ff"))
	if rec := mustLookup(t, b, id); rec.State != store.StateWritten || rec.LastError != "" || !rec.RetryAt.IsZero() {
		t.Errorf("written after failures: got %+v, want written, no error, no retry time", rec)
	}
}

func testMarkFailedPermanent(t *testing.T, b store.Backend) {
	ctx := t.Context()
	id := story(1)
	mustClaim(t, b, id, "a", t0)
	check(t, "MarkFailed", b.MarkFailed(ctx, id, "a", "status 404", true, t0.Add(time.Hour)))
	rec := mustLookup(t, b, id)
	if rec.State != store.StatePermanent || rec.Attempts != 1 || rec.LastError != "status 404" {
		t.Errorf("got %+v, want permanent after 1 attempt with status 404", rec)
	}
	far := t0.Add(365 * 24 * time.Hour)
	if due, err := b.Due(ctx, far, 10); err != nil || len(due) != 0 {
		t.Errorf("Due: got %v, %v; want none", due, err)
	}
	if _, err := b.Claim(ctx, id, "a", lease, far); !errors.Is(err, store.ErrPermanent) {
		t.Errorf("Claim: got %v, want ErrPermanent", err)
	}
	if _, err := b.ForceClaim(ctx, id, "a", lease, far); err != nil {
		t.Errorf("ForceClaim: got %v, want nil", err)
	}
}

// testMarkFailedForcedRewrite: a forced rewrite that fails leaves the
// written post as it was.
func testMarkFailedForcedRewrite(t *testing.T, b store.Backend) {
	ctx := t.Context()
	id := story(1)
	written(b)(t, id)
	before := mustLookup(t, b, id)
	_, err := b.ForceClaim(ctx, id, "b", lease, t0)
	check(t, "ForceClaim", err)
	check(t, "MarkFailed", b.MarkFailed(ctx, id, "b", "status 500", false, t0.Add(time.Hour)))
	rec := mustLookup(t, b, id)
	if rec.State != store.StateWritten || rec.Path != before.Path || rec.SHA256 != before.SHA256 || rec.Owner != "" {
		t.Errorf("got %+v, want written at %s, unclaimed", rec, before.Path)
	}
	if _, err := b.Claim(ctx, id, "c", lease, t0.Add(2*time.Hour)); !errors.Is(err, store.ErrWritten) {
		t.Errorf("Claim: got %v, want ErrWritten", err)
	}
}

func testReservePath(t *testing.T, b store.Backend) {
	ctx := t.Context()
	const want = "2021-11-18-日本长期失业者人数上升.md"
	tests := []struct {
		name     string
		id       store.Identity
		wantName string
		path     string
	}{
		{"first story", story(1214802), want, want},
		{"same story again", story(1214802), "another name.md", want},
		{"second story, same name: SiteKey suffix", story(1214803), want, "2021-11-18-日本长期失业者人数上升-zaobao-1214803.md"},
		{"story without SiteKey: URL hash suffix", page(1), want, "2021-11-18-日本长期失业者人数上升-" + urlHash(page(1).URL) + ".md"},
		{"no .md extension", page(2), "notes", "notes"},
		{"no .md extension, taken", page(3), "notes", "notes-" + urlHash(page(3).URL)},
		{"in a subfolder", page(4), "2021/11/post.md", "2021/11/post.md"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustClaim(t, b, tt.id, "a", t0)
			path, err := b.ReservePath(ctx, tt.id, "a", tt.wantName)
			if err != nil || path != tt.path {
				t.Fatalf("ReservePath(%q): got %q, %v; want %q", tt.wantName, path, err, tt.path)
			}
			if rec := mustLookup(t, b, tt.id); rec.Path != tt.path {
				t.Errorf("Lookup: got path %q, want %q", rec.Path, tt.path)
			}
		})
	}
	t.Run("suffixed name taken too", func(t *testing.T) {
		// A story whose bare and SiteKey names are both held falls back
		// to the URL hash.
		id := story(1214803)
		other := store.Identity{URL: "https://example.com/other", SiteKey: id.SiteKey + "x"}
		mustClaim(t, b, other, "a", t0)
		path, err := b.ReservePath(ctx, other, "a", "2021-11-18-日本长期失业者人数上升-zaobao-1214803.md")
		check(t, "ReservePath", err)
		if path == "2021-11-18-日本长期失业者人数上升-zaobao-1214803.md" {
			t.Errorf("got the name another story holds: %q", path)
		}
	})
	for _, bad := range []string{"", "../escape.md", "/abs/post.md", "a/../../b.md"} {
		id := page(50)
		mustClaim(t, b, id, "a", t0)
		if path, err := b.ReservePath(ctx, id, "a", bad); err == nil {
			t.Errorf("ReservePath(%q): got %q, want an error", bad, path)
		}
	}
}

// urlHash is the suffix ReservePath derives from a URL: the first 8 hex
// digits of its SHA-256.
func urlHash(url string) string {
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:4])
}

// testReservePathKeepsName: a story keeps its name across a crash between
// reserving and writing, whoever claims it next.
func testReservePathKeepsName(t *testing.T, b store.Backend) {
	ctx := t.Context()
	id := story(1)
	mustClaim(t, b, id, "a", t0)
	first, err := b.ReservePath(ctx, id, "a", "post.md")
	check(t, "ReservePath", err)
	// a dies; its lease ends; b claims the story and another story wants
	// the same name meanwhile.
	mustClaim(t, b, story(2), "c", t0)
	other, err := b.ReservePath(ctx, story(2), "c", "post.md")
	check(t, "ReservePath", err)
	mustClaim(t, b, id, "b", t0.Add(lease))
	again, err := b.ReservePath(ctx, id, "b", "post.md")
	check(t, "ReservePath", err)
	if again != first || other == first {
		t.Errorf("got %q for the story after the crash and %q for the other; want %q and another name", again, other, first)
	}
	check(t, "Release", b.Release(ctx, id, "b"))
	mustClaim(t, b, id, "c", t0.Add(lease))
	if path, err := b.ReservePath(ctx, id, "c", "renamed.md"); err != nil || path != first {
		t.Errorf("after Release: got %q, %v; want %q", path, err, first)
	}
}

func testMarkKnown(t *testing.T, b store.Backend) {
	ctx := t.Context()
	id := story(1)
	check(t, "MarkKnown", b.MarkKnown(ctx, id, "_posts/2021-11-18-old.md"))
	rec := mustLookup(t, b, id)
	want := store.Record{ID: id, State: store.StateKnown, Path: "_posts/2021-11-18-old.md"}
	if rec != want {
		t.Errorf("got %+v, want %+v", rec, want)
	}
	variant := store.Identity{URL: "https://www.zaobao.com.sg/realtime/world/story20211118-1", SiteKey: id.SiteKey}
	if _, err := b.Claim(ctx, variant, "a", lease, t0); !errors.Is(err, store.ErrWritten) {
		t.Errorf("Claim of a URL variant: got %v, want ErrWritten", err)
	}
	// Importing twice, or the same story from a duplicate file, keeps the
	// first path.
	check(t, "MarkKnown again", b.MarkKnown(ctx, id, "_posts/2021-11-18-old-copy.md"))
	if rec := mustLookup(t, b, id); rec.Path != want.Path {
		t.Errorf("after a second MarkKnown: got path %q, want %q", rec.Path, want.Path)
	}
	if err := b.MarkKnown(ctx, story(2), want.Path); !errors.Is(err, store.ErrPathTaken) {
		t.Errorf("MarkKnown of another story at the same path: got %v, want ErrPathTaken", err)
	}
	if err := b.MarkKnown(ctx, story(3), "../outside.md"); err == nil {
		t.Errorf("MarkKnown outside the archive: got nil, want an error")
	}
	// A name held by an imported post is not given to a new story.
	mustClaim(t, b, story(4), "a", t0)
	if path, err := b.ReservePath(ctx, story(4), "a", want.Path); err != nil || path == want.Path {
		t.Errorf("ReservePath of an imported name: got %q, %v; want another name", path, err)
	}
	// A pending story found in the archive becomes known.
	mustClaim(t, b, story(5), "a", t0)
	check(t, "Release", b.Release(ctx, story(5), "a"))
	check(t, "MarkKnown", b.MarkKnown(ctx, story(5), "five.md"))
	if rec := mustLookup(t, b, story(5)); rec.State != store.StateKnown {
		t.Errorf("pending story imported: got %s, want known", rec.State)
	}
}

func testDue(t *testing.T, b store.Backend) {
	ctx := t.Context()
	now := t0.Add(2 * time.Hour)
	// Stories 1–7, each in a state; those marked due are returned.
	mustClaim(t, b, story(1), "a", t0)                    // claimant died, lease over: due
	mustClaim(t, b, story(2), "a", now.Add(-time.Second)) // live claim
	mustClaim(t, b, story(3), "a", t0)
	check(t, "Release", b.Release(ctx, story(3), "a")) // released: due
	failed(b, false)(t, story(4))                      // retry at t0+1h: due
	mustClaim(t, b, story(5), "a", t0)
	check(t, "MarkFailed", b.MarkFailed(ctx, story(5), "a", "429", false, now.Add(time.Minute))) // not yet
	failed(b, true)(t, story(6))                                                                 // permanent
	written(b)(t, story(7))

	due, err := b.Due(ctx, now, 100)
	check(t, "Due", err)
	got := map[string]bool{}
	for _, rec := range due {
		got[rec.ID.SiteKey] = true
	}
	for n, want := range map[int]bool{1: true, 2: false, 3: true, 4: true, 5: false, 6: false, 7: false} {
		if got[story(n).SiteKey] != want {
			t.Errorf("story %d: got due=%v, want %v", n, got[story(n).SiteKey], want)
		}
	}
	if len(due) != 3 {
		t.Errorf("got %d due stories, want 3", len(due))
	}
	if due, err := b.Due(ctx, now, 2); err != nil || len(due) != 2 {
		t.Errorf("Due with limit 2: got %d, %v; want 2", len(due), err)
	}
}

func testFeedState(t *testing.T, b store.Backend) {
	ctx := t.Context()
	const feed = "https://rsshub.app/zaobao/realtime/world"
	st, err := b.FeedState(ctx, feed)
	if err != nil || st != (store.FeedState{FeedURL: feed}) {
		t.Errorf("unknown feed: got %+v, %v; want the zero state", st, err)
	}
	states := []store.FeedState{
		{FeedURL: feed, ETag: `W/"abc"`, LastModified: "Thu, 18 Nov 2021 09:28:39 GMT",
			LastPoll: t0, NextPoll: t0.Add(10 * time.Minute)},
		{FeedURL: feed, ETag: `"def"`, LastPoll: t0.Add(10 * time.Minute), NextPoll: t0.Add(40 * time.Minute),
			Failures: 3, LastError: "status 503"},
		{FeedURL: feed},
	}
	for i, want := range states {
		check(t, "SaveFeedState", b.SaveFeedState(ctx, want))
		got, err := b.FeedState(ctx, feed)
		if err != nil || got != want {
			t.Errorf("round trip %d: got %+v, %v; want %+v", i, got, err, want)
		}
	}
	if st, _ := b.FeedState(ctx, feed+"/other"); st != (store.FeedState{FeedURL: feed + "/other"}) {
		t.Errorf("other feed: got %+v, want the zero state", st)
	}
}

func testClaimFeed(t *testing.T, b store.Backend) {
	ctx := t.Context()
	const feed = "https://rsshub.app/zaobao/realtime/china"
	steps := []struct {
		owner string
		at    time.Time
		want  bool
	}{
		{"a", t0, true},
		{"b", t0.Add(time.Second), false},
		{"a", t0.Add(30 * time.Second), true}, // renews to t0+90s
		{"b", t0.Add(lease), false},
		{"b", t0.Add(30*time.Second + lease), true},
		{"a", t0.Add(30*time.Second + lease), false},
	}
	for i, s := range steps {
		got, err := b.ClaimFeed(ctx, feed, s.owner, lease, s.at)
		if err != nil || got != s.want {
			t.Fatalf("step %d: ClaimFeed by %s at %v: got %v, %v; want %v", i, s.owner, s.at, got, err, s.want)
		}
	}
	// The lease and the feed's state are independent.
	want := store.FeedState{FeedURL: feed, ETag: `"x"`, LastPoll: t0}
	check(t, "SaveFeedState", b.SaveFeedState(ctx, want))
	if ok, _ := b.ClaimFeed(ctx, feed, "a", lease, t0.Add(lease)); ok {
		t.Errorf("SaveFeedState ended b's lease")
	}
	want.Owner = "b" // FeedState names the lease holder
	want.Token = 3   // a's claim, a's renewal, b's claim
	if got, _ := b.FeedState(ctx, feed); got != want {
		t.Errorf("FeedState after claims: got %+v, want %+v", got, want)
	}
	if err := b.ReleaseFeed(ctx, feed, "a"); !errors.Is(err, store.ErrNotOwner) {
		t.Errorf("ReleaseFeed by a non-owner: got %v, want ErrNotOwner", err)
	}
	check(t, "ReleaseFeed", b.ReleaseFeed(ctx, feed, "b"))
	if ok, err := b.ClaimFeed(ctx, feed, "a", lease, t0.Add(lease)); !ok || err != nil {
		t.Errorf("ClaimFeed after release: got %v, %v; want true", ok, err)
	}
	if err := b.ReleaseFeed(ctx, feed+"/unknown", "a"); !errors.Is(err, store.ErrNotOwner) {
		t.Errorf("ReleaseFeed of an unknown feed: got %v, want ErrNotOwner", err)
	}
}

// testConcurrentClaims: of 8 workers claiming one story at once, exactly
// one wins; the same for a feed.
func testConcurrentClaims(t *testing.T, b store.Backend) {
	const workers = 8
	ctx := t.Context()
	for round := range 5 {
		id := story(round)
		feed := fmt.Sprintf("https://example.com/feed/%d", round)
		var wg sync.WaitGroup
		errs := make([]error, workers)
		won := make([]bool, workers)
		for w := range workers {
			wg.Go(func() {
				owner := fmt.Sprintf("worker-%d", w)
				_, errs[w] = b.Claim(ctx, id, owner, lease, t0)
				ok, err := b.ClaimFeed(ctx, feed, owner, lease, t0)
				won[w] = ok && err == nil
			})
		}
		wg.Wait()
		claims, feeds := 0, 0
		for w := range workers {
			switch {
			case errs[w] == nil:
				claims++
			case !errors.Is(errs[w], store.ErrClaimed):
				t.Errorf("round %d, worker %d: got %v, want nil or ErrClaimed", round, w, errs[w])
			}
			if won[w] {
				feeds++
			}
		}
		if claims != 1 || feeds != 1 {
			t.Errorf("round %d: got %d story claims and %d feed claims won, want 1 and 1", round, claims, feeds)
		}
	}
}

// testConcurrentReservePath: stories wanting one name at once all get
// different names.
func testConcurrentReservePath(t *testing.T, b store.Backend) {
	const workers = 8
	ctx := t.Context()
	paths := make([]string, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		id := page(w)
		if w%2 == 0 {
			id = story(w)
		}
		mustClaim(t, b, id, "a", t0)
		wg.Go(func() {
			paths[w], errs[w] = b.ReservePath(ctx, id, "a", "same.md")
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for w, p := range paths {
		if errs[w] != nil {
			t.Fatalf("worker %d: %v", w, errs[w])
		}
		if seen[p] {
			t.Errorf("path %q given twice", p)
		}
		seen[p] = true
	}
}

func testStats(t *testing.T, b store.Backend) {
	ctx := t.Context()
	if st, err := b.Stats(ctx); err != nil || st != (store.Stats{}) {
		t.Errorf("empty store: got %+v, %v; want zero", st, err)
	}
	mustClaim(t, b, story(1), "a", t0) // pending, claimed
	mustClaim(t, b, story(2), "a", t0)
	check(t, "Release", b.Release(ctx, story(2), "a")) // pending
	failed(b, false)(t, story(3))
	failed(b, false)(t, story(4))
	failed(b, true)(t, story(5))
	written(b)(t, story(6))
	written(b)(t, story(7))
	written(b)(t, story(8))
	check(t, "MarkKnown", b.MarkKnown(ctx, story(9), "nine.md"))
	_, err := b.ForceClaim(ctx, story(9), "a", lease, t0) // known, claimed
	check(t, "ForceClaim", err)
	check(t, "SaveFeedState", b.SaveFeedState(ctx, store.FeedState{FeedURL: "https://example.com/feed"}))
	want := store.Stats{Pending: 2, Failed: 2, Permanent: 1, Written: 3, Known: 1, Claimed: 2, Feeds: 1}
	if st, err := b.Stats(ctx); err != nil || st != want {
		t.Errorf("got %+v, %v; want %+v", st, err, want)
	}
}

func testPing(t *testing.T, b store.Backend) {
	if err := b.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// testFeedOwner: FeedState names the holder of a feed's lease, and nobody
// once it is released; SaveFeedState does not change it.
func testFeedOwner(t *testing.T, b store.Backend) {
	ctx := t.Context()
	const feed = "https://rsshub.example/zaobao/realtime/world"
	if st, err := b.FeedState(ctx, feed); err != nil || st.Owner != "" {
		t.Fatalf("unknown feed: got owner %q, %v; want none", st.Owner, err)
	}
	if ok, err := b.ClaimFeed(ctx, feed, "a", lease, t0); err != nil || !ok {
		t.Fatalf("ClaimFeed: %v, %v", ok, err)
	}
	if err := b.SaveFeedState(ctx, store.FeedState{FeedURL: feed, ETag: `"x"`, Owner: "b"}); err != nil {
		t.Fatal(err)
	}
	if st, err := b.FeedState(ctx, feed); err != nil || st.Owner != "a" || st.ETag != `"x"` {
		t.Errorf("claimed feed: got owner %q etag %s, %v; want a, \"x\"", st.Owner, st.ETag, err)
	}
	if err := b.ReleaseFeed(ctx, feed, "a"); err != nil {
		t.Fatal(err)
	}
	if st, err := b.FeedState(ctx, feed); err != nil || st.Owner != "" {
		t.Errorf("released feed: got owner %q, %v; want none", st.Owner, err)
	}
}

// testNoteFailure: the first failure's time is kept; a feed copy is kept
// until a newer one is given, and an empty one does not erase it.
func testNoteFailure(t *testing.T, b store.Backend) {
	ctx := t.Context()
	url := story(1).URL
	f, err := b.NoteFailure(ctx, url, t0, nil)
	if err != nil || !f.Since.Equal(t0) || len(f.FeedCopy) != 0 {
		t.Fatalf("first failure: got %+v, %v; want since %v, no copy", f, err, t0)
	}
	f, err = b.NoteFailure(ctx, url, t0.Add(time.Hour), []byte("copy 1"))
	if err != nil || !f.Since.Equal(t0) || string(f.FeedCopy) != "copy 1" {
		t.Fatalf("second failure: got since %v copy %q, %v; want %v, copy 1", f.Since, f.FeedCopy, err, t0)
	}
	f, err = b.NoteFailure(ctx, url, t0.Add(2*time.Hour), nil)
	if err != nil || !f.Since.Equal(t0) || string(f.FeedCopy) != "copy 1" {
		t.Errorf("failure without a copy: got since %v copy %q, %v; want %v, copy 1", f.Since, f.FeedCopy, err, t0)
	}
	f, err = b.NoteFailure(ctx, url, t0.Add(3*time.Hour), []byte("copy 2"))
	if err != nil || string(f.FeedCopy) != "copy 2" {
		t.Errorf("newer copy: got %q, %v; want copy 2", f.FeedCopy, err)
	}
	if f, err := b.NoteFailure(ctx, story(2).URL, t0.Add(time.Minute), nil); err != nil || !f.Since.Equal(t0.Add(time.Minute)) {
		t.Errorf("another story: got since %v, %v; want its own", f.Since, err)
	}
}

// writtenTruncated brings id to a written, truncated post due for a
// re-fetch at refetchAt, and returns its path.
func writtenTruncated(t *testing.T, b store.Backend, id store.Identity, sum string, refetchAt time.Time) string {
	t.Helper()
	mustClaim(t, b, id, "a", t0)
	path, err := b.ReservePath(t.Context(), id, "a", fileName("cut", id))
	check(t, "ReservePath", err)
	check(t, "MarkTruncated", b.MarkTruncated(t.Context(), id, "a", path, sum, refetchAt))
	return path
}

// dueRefetch returns the URLs DueRefetch lists at now.
func dueRefetch(t *testing.T, b store.Backend, now time.Time) []string {
	t.Helper()
	due, err := b.DueRefetch(t.Context(), now, 10)
	check(t, "DueRefetch", err)
	var urls []string
	for _, r := range due {
		urls = append(urls, r.ID.URL)
	}
	return urls
}

// testRefetch: a truncated post is written like any post, is listed and
// claimable for a re-fetch from its time, and the re-fetch ends kept
// (counted, next time set), rewritten still truncated (in place,
// counted), or whole (no more re-fetches).
func testRefetch(t *testing.T, b store.Backend) {
	ctx := t.Context()
	id := story(1)
	first := t0.Add(24 * time.Hour)
	path := writtenTruncated(t, b, id, "s1", first)
	want := store.Record{ID: id, State: store.StateWritten, Path: path, SHA256: "s1", Truncated: true, RefetchAt: first, Token: 1}
	if rec := mustLookup(t, b, id); rec != want {
		t.Fatalf("truncated post: got %+v, want %+v", rec, want)
	}
	if _, err := b.Claim(ctx, id, "b", lease, first); !errors.Is(err, store.ErrWritten) {
		t.Errorf("Claim of a truncated post: got %v, want ErrWritten", err)
	}
	if due, err := b.Due(ctx, first, 10); err != nil || len(due) != 0 {
		t.Errorf("Due lists a truncated post: got %v, %v; want none", due, err)
	}

	// Not before its time.
	if got := dueRefetch(t, b, first.Add(-time.Second)); len(got) != 0 {
		t.Errorf("DueRefetch before the re-fetch time: got %v, want none", got)
	}
	rec, err := b.ClaimRefetch(ctx, id, "a", lease, first.Add(-time.Second))
	if !errors.Is(err, store.ErrNotDue) || rec != want {
		t.Errorf("ClaimRefetch before the re-fetch time: got %+v, %v; want ErrNotDue with the story as stored", rec, err)
	}
	if got := dueRefetch(t, b, first); len(got) != 1 || got[0] != id.URL {
		t.Errorf("DueRefetch at the re-fetch time: got %v, want [%s]", got, id.URL)
	}

	// One owner at a time; a dead owner's re-fetch is listed after its lease.
	rec, err = b.ClaimRefetch(ctx, id, "a", lease, first)
	check(t, "ClaimRefetch", err)
	if rec.Owner != "a" || !rec.LeaseUntil.Equal(first.Add(lease)) || rec.State != store.StateWritten || rec.Path != path {
		t.Errorf("re-fetch claim: got %+v, want written at %s, held by a until %v", rec, path, first.Add(lease))
	}
	if _, err := b.ClaimRefetch(ctx, id, "b", lease, first.Add(time.Second)); !errors.Is(err, store.ErrClaimed) {
		t.Errorf("ClaimRefetch of a held story: got %v, want ErrClaimed", err)
	}
	if got := dueRefetch(t, b, first.Add(time.Second)); len(got) != 0 {
		t.Errorf("DueRefetch lists a held story: got %v", got)
	}
	if got := dueRefetch(t, b, first.Add(lease)); len(got) != 1 {
		t.Errorf("DueRefetch after the holder's lease: got %v, want the story", got)
	}
	if err := b.KeepTruncated(ctx, id, "b", first); !errors.Is(err, store.ErrNotOwner) {
		t.Errorf("KeepTruncated by another owner: got %v, want ErrNotOwner", err)
	}

	// Nothing better: the post stays, the re-fetch counts.
	second := first.Add(48 * time.Hour)
	check(t, "KeepTruncated", b.KeepTruncated(ctx, id, "a", second))
	want.RefetchAt, want.Refetches, want.Token = second, 1, 2 // each claim takes a token
	if rec := mustLookup(t, b, id); rec != want {
		t.Errorf("after KeepTruncated: got %+v, want %+v", rec, want)
	}

	// A longer copy, still truncated: rewritten in place, counted.
	_, err = b.ClaimRefetch(ctx, id, "b", lease, second)
	check(t, "ClaimRefetch", err)
	again, err := b.ReservePath(ctx, id, "b", "another-title.md")
	check(t, "ReservePath", err)
	if again != path {
		t.Errorf("ReservePath on a re-fetch: got %q, want the post's path %q", again, path)
	}
	third := second.Add(96 * time.Hour)
	check(t, "MarkTruncated", b.MarkTruncated(ctx, id, "b", again, "s2", third))
	want.SHA256, want.RefetchAt, want.Refetches, want.Token = "s2", third, 2, 3
	if rec := mustLookup(t, b, id); rec != want {
		t.Errorf("after a longer truncated copy: got %+v, want %+v", rec, want)
	}

	// The full text: rewritten, no more re-fetches.
	_, err = b.ClaimRefetch(ctx, id, "a", lease, third)
	check(t, "ClaimRefetch", err)
	check(t, "MarkWritten", b.MarkWritten(ctx, id, "a", path, "s3"))
	want = store.Record{ID: id, State: store.StateWritten, Path: path, SHA256: "s3", Refetches: 3, Token: 4}
	if rec := mustLookup(t, b, id); rec != want {
		t.Errorf("after the full text: got %+v, want %+v", rec, want)
	}
	if _, err := b.ClaimRefetch(ctx, id, "a", lease, third.Add(time.Hour)); !errors.Is(err, store.ErrNoRefetch) {
		t.Errorf("ClaimRefetch of a whole post: got %v, want ErrNoRefetch", err)
	}
	if got := dueRefetch(t, b, third.Add(365*24*time.Hour)); len(got) != 0 {
		t.Errorf("DueRefetch lists a whole post: got %v", got)
	}

	// The last re-fetch: kept with no next time, the post stays truncated.
	last := story(2)
	writtenTruncated(t, b, last, "s1", first)
	_, err = b.ClaimRefetch(ctx, last, "a", lease, first)
	check(t, "ClaimRefetch", err)
	check(t, "KeepTruncated", b.KeepTruncated(ctx, last, "a", time.Time{}))
	if rec := mustLookup(t, b, last); !rec.Truncated || !rec.RefetchAt.IsZero() || rec.Refetches != 1 || rec.Owner != "" {
		t.Errorf("after the last re-fetch: got %+v, want truncated, 1 re-fetch, none waiting, no owner", rec)
	}
	if _, err := b.ClaimRefetch(ctx, last, "a", lease, third); !errors.Is(err, store.ErrNoRefetch) {
		t.Errorf("ClaimRefetch after the last re-fetch: got %v, want ErrNoRefetch", err)
	}
	if got := dueRefetch(t, b, third); len(got) != 0 {
		t.Errorf("DueRefetch after the last re-fetch: got %v, want none", got)
	}

	// A release ends the re-fetch without counting it.
	rel := story(3)
	writtenTruncated(t, b, rel, "s1", first)
	_, err = b.ClaimRefetch(ctx, rel, "a", lease, first)
	check(t, "ClaimRefetch", err)
	check(t, "Release", b.Release(ctx, rel, "a"))
	if rec := mustLookup(t, b, rel); rec.Refetches != 0 || !rec.RefetchAt.Equal(first) || rec.Owner != "" {
		t.Errorf("after a released re-fetch: got %+v, want it waiting as before", rec)
	}
	if got := dueRefetch(t, b, first); len(got) != 1 || got[0] != rel.URL {
		t.Errorf("DueRefetch after a release: got %v, want [%s]", got, rel.URL)
	}
}

// testRefetchRefusals: only written stories with a truncated post have
// re-fetches, and only their holder ends one.
func testRefetchRefusals(t *testing.T, b store.Backend) {
	ctx := t.Context()
	if _, err := b.ClaimRefetch(ctx, story(1), "a", lease, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ClaimRefetch of an unknown story: got %v, want ErrNotFound", err)
	}
	if _, err := b.ClaimRefetch(ctx, story(1), "", lease, t0); err == nil {
		t.Errorf("ClaimRefetch with an empty owner: got nil, want an error")
	}
	pending := story(2)
	mustClaim(t, b, pending, "a", t0)
	if _, err := b.ClaimRefetch(ctx, pending, "a", lease, t0); !errors.Is(err, store.ErrNoRefetch) {
		t.Errorf("ClaimRefetch of a pending story: got %v, want ErrNoRefetch", err)
	}
	if err := b.KeepTruncated(ctx, pending, "a", t0); !errors.Is(err, store.ErrNoRefetch) {
		t.Errorf("KeepTruncated of a pending story: got %v, want ErrNoRefetch", err)
	}
	whole := story(3)
	written(b)(t, whole)
	if _, err := b.ClaimRefetch(ctx, whole, "a", lease, t0.Add(time.Hour)); !errors.Is(err, store.ErrNoRefetch) {
		t.Errorf("ClaimRefetch of a whole post: got %v, want ErrNoRefetch", err)
	}
	_, err := b.ForceClaim(ctx, whole, "a", lease, t0.Add(time.Hour))
	check(t, "ForceClaim", err)
	if err := b.KeepTruncated(ctx, whole, "a", t0); !errors.Is(err, store.ErrNoRefetch) {
		t.Errorf("KeepTruncated of a whole post: got %v, want ErrNoRefetch", err)
	}
	if rec := mustLookup(t, b, whole); rec.Truncated || rec.Refetches != 0 || rec.Owner != "a" {
		t.Errorf("refused KeepTruncated changed the story: got %+v", rec)
	}
	// A truncated post written with no re-fetch (re-fetching is off) is
	// remembered as truncated and never listed.
	never := story(4)
	writtenTruncated(t, b, never, "s1", time.Time{})
	if rec := mustLookup(t, b, never); !rec.Truncated || !rec.RefetchAt.IsZero() {
		t.Errorf("truncated post without a re-fetch: got %+v, want truncated, none waiting", rec)
	}
	if got := dueRefetch(t, b, t0.Add(365*24*time.Hour)); len(got) != 0 {
		t.Errorf("DueRefetch: got %v, want none", got)
	}
	if err := b.MarkTruncated(ctx, never, "b", "x.md", "s", t0); !errors.Is(err, store.ErrNotOwner) {
		t.Errorf("MarkTruncated without the claim: got %v, want ErrNotOwner", err)
	}
}

// testConcurrentRefetchClaims: of 8 workers claiming one re-fetch at once,
// exactly one wins.
func testConcurrentRefetchClaims(t *testing.T, b store.Backend) {
	const workers = 8
	ctx := t.Context()
	for round := range 3 {
		id := story(round)
		writtenTruncated(t, b, id, "s1", t0)
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for w := range workers {
			wg.Go(func() {
				_, errs[w] = b.ClaimRefetch(ctx, id, fmt.Sprintf("worker-%d", w), lease, t0)
			})
		}
		wg.Wait()
		won := 0
		for w, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrClaimed):
				t.Errorf("round %d, worker %d: got %v, want nil or ErrClaimed", round, w, err)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d re-fetch claims won, want 1", round, won)
		}
	}
}
