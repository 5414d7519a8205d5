-- A claim without a lease would never expire: Due and ClaimFeed compare
-- lease_until, and NULL compares as neither before nor after, so the story
-- or feed would stay held forever. Make that an error instead.
ALTER TABLE articles ADD CONSTRAINT articles_claim_has_lease
	CHECK ((owner = '') = (lease_until IS NULL));
ALTER TABLE feeds ADD CONSTRAINT feeds_claim_has_lease
	CHECK ((owner = '') = (lease_until IS NULL));

-- Due reads unfinished stories in retry order; written and known stories,
-- nearly all of the table in a grown archive, need not be in its index.
DROP INDEX articles_due;
CREATE INDEX articles_unfinished ON articles (retry_at NULLS FIRST, id)
	WHERE state IN ('pending', 'failed');
