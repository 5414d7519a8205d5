-- Stories, their URLs, and feeds. Times are Unix microseconds, 0 for none.

CREATE TABLE articles (
	id          INTEGER PRIMARY KEY,
	url         TEXT    NOT NULL,
	site_key    TEXT    UNIQUE,
	state       TEXT    NOT NULL DEFAULT 'pending'
	            CHECK (state IN ('pending', 'failed', 'permanent', 'written', 'known')),
	owner       TEXT    NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0,
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT    NOT NULL DEFAULT '',
	retry_at    INTEGER NOT NULL DEFAULT 0,
	path        TEXT    UNIQUE,
	sha256      TEXT    NOT NULL DEFAULT ''
);

-- Every URL a story was seen under, so a variant met once is known again
-- even without its SiteKey.
CREATE TABLE article_urls (
	url        TEXT    NOT NULL,
	article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	PRIMARY KEY (url, article_id)
) WITHOUT ROWID;

CREATE INDEX articles_due ON articles (state, retry_at);

CREATE TABLE feeds (
	url           TEXT    PRIMARY KEY,
	etag          TEXT    NOT NULL DEFAULT '',
	last_modified TEXT    NOT NULL DEFAULT '',
	last_poll     INTEGER NOT NULL DEFAULT 0,
	next_poll     INTEGER NOT NULL DEFAULT 0,
	failures      INTEGER NOT NULL DEFAULT 0,
	last_error    TEXT    NOT NULL DEFAULT '',
	owner         TEXT    NOT NULL DEFAULT '',
	lease_until   INTEGER NOT NULL DEFAULT 0
);
