-- Stories that failed: since when, and the feed's own copy of the story
-- (when its feed carried the full text), so that a story whose page keeps
-- failing for days can be given up, or written from that copy.
CREATE TABLE failures (
	url       text        PRIMARY KEY, -- the story's canonical URL
	since     timestamptz NOT NULL,
	feed_copy bytea       NOT NULL DEFAULT ''::bytea
);
