-- Counts of stories by state, of claimed stories and of feeds, kept up to
-- date by triggers in the transaction that changes them, so that Stats
-- (/metrics) reads a few rows instead of counting a table of a million.
CREATE TABLE counts (
	name TEXT    PRIMARY KEY, -- a story state, 'claimed' or 'feeds'
	n    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

INSERT INTO counts (name, n)
	SELECT s.name, (SELECT count(*) FROM articles WHERE state = s.name)
	FROM (SELECT 'pending' AS name UNION ALL SELECT 'failed' UNION ALL SELECT 'permanent'
	      UNION ALL SELECT 'written' UNION ALL SELECT 'known') s;
INSERT INTO counts (name, n) VALUES ('claimed', (SELECT count(*) FROM articles WHERE owner != ''));
INSERT INTO counts (name, n) VALUES ('feeds', (SELECT count(*) FROM feeds));

CREATE TRIGGER articles_count_insert AFTER INSERT ON articles BEGIN
	UPDATE counts SET n = n + 1 WHERE name = NEW.state;
	UPDATE counts SET n = n + 1 WHERE name = 'claimed' AND NEW.owner != '';
END;

CREATE TRIGGER articles_count_delete AFTER DELETE ON articles BEGIN
	UPDATE counts SET n = n - 1 WHERE name = OLD.state;
	UPDATE counts SET n = n - 1 WHERE name = 'claimed' AND OLD.owner != '';
END;

CREATE TRIGGER articles_count_state AFTER UPDATE OF state ON articles
WHEN OLD.state != NEW.state BEGIN
	UPDATE counts SET n = n - 1 WHERE name = OLD.state;
	UPDATE counts SET n = n + 1 WHERE name = NEW.state;
END;

CREATE TRIGGER articles_count_owner AFTER UPDATE OF owner ON articles
WHEN (OLD.owner != '') != (NEW.owner != '') BEGIN
	UPDATE counts SET n = n + (NEW.owner != '') - (OLD.owner != '') WHERE name = 'claimed';
END;

CREATE TRIGGER feeds_count_insert AFTER INSERT ON feeds BEGIN
	UPDATE counts SET n = n + 1 WHERE name = 'feeds';
END;

CREATE TRIGGER feeds_count_delete AFTER DELETE ON feeds BEGIN
	UPDATE counts SET n = n - 1 WHERE name = 'feeds';
END;
