-- Stories that failed: since when, and the feed's own copy of the story
-- (when its feed carried the full text), so that a story whose page keeps
-- failing for days can be given up, or written from that copy.
CREATE TABLE failures (
	url       TEXT    PRIMARY KEY, -- the story's canonical URL
	since     INTEGER NOT NULL,    -- unix microseconds of the first failure
	feed_copy BLOB    NOT NULL DEFAULT x''
);
