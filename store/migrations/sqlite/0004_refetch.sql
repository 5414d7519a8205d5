-- Posts a paywall cut short (front matter truncated: true): the story is
-- written, and its page is fetched again from refetch_at (unix
-- microseconds, 0 for never) in case the full text has appeared, until it
-- has or refetches reaches crawl.refetch_truncated_times. Stories stored
-- before this version are complete as far as the store knows.
ALTER TABLE articles ADD COLUMN truncated  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN refetch_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN refetches  INTEGER NOT NULL DEFAULT 0;

-- DueRefetch reads the few posts waiting for a re-fetch, by time.
CREATE INDEX articles_refetch ON articles (refetch_at, id) WHERE refetch_at != 0;
