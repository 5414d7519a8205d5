-- Stories, their URLs, and feeds: the schema of the SQLite store, with
-- times as timestamptz (microseconds), NULL for none.

CREATE TABLE schema_migrations (
	version    integer     PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE articles (
	id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	url         text        NOT NULL,
	site_key    text        CONSTRAINT articles_site_key_key UNIQUE,
	state       text        NOT NULL DEFAULT 'pending'
	            CHECK (state IN ('pending', 'failed', 'permanent', 'written', 'known')),
	owner       text        NOT NULL DEFAULT '',
	lease_until timestamptz,
	attempts    integer     NOT NULL DEFAULT 0,
	last_error  text        NOT NULL DEFAULT '',
	retry_at    timestamptz,
	path        text        CONSTRAINT articles_path_key UNIQUE,
	sha256      text        NOT NULL DEFAULT ''
);

-- Every URL a story was seen under, so a variant met once is known again
-- even without its SiteKey.
CREATE TABLE article_urls (
	url        text   NOT NULL,
	article_id bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	PRIMARY KEY (url, article_id)
);

CREATE INDEX articles_due ON articles (state, retry_at);

CREATE TABLE feeds (
	url           text        PRIMARY KEY,
	etag          text        NOT NULL DEFAULT '',
	last_modified text        NOT NULL DEFAULT '',
	last_poll     timestamptz,
	next_poll     timestamptz,
	failures      integer     NOT NULL DEFAULT 0,
	last_error    text        NOT NULL DEFAULT '',
	owner         text        NOT NULL DEFAULT '',
	lease_until   timestamptz
);
