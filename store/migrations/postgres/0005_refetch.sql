-- Posts a paywall cut short (front matter truncated: true): the story is
-- written, and its page is fetched again from refetch_at (NULL for never)
-- in case the full text has appeared, until it has or refetches reaches
-- crawl.refetch_truncated_times. Stories stored before this version are
-- complete as far as the store knows.
ALTER TABLE articles
	ADD COLUMN truncated  boolean     NOT NULL DEFAULT false,
	ADD COLUMN refetch_at timestamptz,
	ADD COLUMN refetches  integer     NOT NULL DEFAULT 0;

-- DueRefetch reads the few posts waiting for a re-fetch, by time.
CREATE INDEX articles_refetch ON articles (refetch_at, id) WHERE refetch_at IS NOT NULL;
