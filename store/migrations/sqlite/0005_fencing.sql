-- Fencing tokens: every claim of a story or of a feed takes the next
-- generation (lease_gen), and a post is renamed into place, or a feed's
-- state saved, only under the generation its holder was given, in the
-- transaction that checks it. A worker whose lease ran out and was taken
-- over can then no longer replace the new holder's post or feed state.
ALTER TABLE articles ADD COLUMN lease_gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feeds    ADD COLUMN lease_gen INTEGER NOT NULL DEFAULT 0;
