-- The per-host politeness budget shared by all workers: when the next
-- request may start, and the requests in flight (slots with leases, so a
-- killed worker's slots free themselves).
CREATE TABLE hosts (
	host        TEXT PRIMARY KEY,
	next_start  INTEGER NOT NULL DEFAULT 0, -- unix microseconds
	not_before  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE host_slots (
	token       TEXT PRIMARY KEY,
	host        TEXT NOT NULL,
	lease_until INTEGER NOT NULL
);
CREATE INDEX host_slots_host ON host_slots (host, lease_until);
