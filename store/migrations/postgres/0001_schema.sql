-- The store's first schema in PostgreSQL: the same tables as the SQLite store, with
-- PostgreSQL's types. Ids, source ids, days and kinds sort and compare byte by byte
-- (COLLATE "C"), as in SQLite, so the winner among a dataset's sources (rank, then source id)
-- and every order by id are the same on both engines.

CREATE TABLE records (
    id TEXT COLLATE "C" NOT NULL,
    source_id TEXT COLLATE "C" NOT NULL,
    iri TEXT NOT NULL,
    source_url TEXT NOT NULL,
    original_subject TEXT NOT NULL,
    municipality_code TEXT,
    hash TEXT NOT NULL,
    graph_lz4 BYTEA NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    last_changed TIMESTAMPTZ NOT NULL,
    rank BIGINT NOT NULL DEFAULT 0,
    missing_since TIMESTAMPTZ,
    archived_at TIMESTAMPTZ,
    PRIMARY KEY (id, source_id)
);
CREATE INDEX records_source ON records (source_id);
CREATE INDEX records_marked ON records (source_id)
    WHERE missing_since IS NOT NULL OR archived_at IS NOT NULL;

CREATE TABLE pages (source_id TEXT COLLATE "C" PRIMARY KEY, memos TEXT NOT NULL);

CREATE TABLE runs (
    id BIGSERIAL PRIMARY KEY,
    source_id TEXT COLLATE "C" NOT NULL,
    started TIMESTAMPTZ NOT NULL,
    finished TIMESTAMPTZ NOT NULL,
    outcome TEXT NOT NULL,
    new BIGINT NOT NULL,
    changed BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    archived BIGINT NOT NULL DEFAULT 0,
    report TEXT NOT NULL
);
CREATE INDEX runs_source ON runs (source_id, id);

-- change_seq: bumped by every transaction that changes the shown records (its row is also
-- the lock that puts appliers on all nodes in one order); facts_seq: bumped by changes to
-- what the reports read besides records and runs; log_start: the change log starts after it.
CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO meta (key, value) VALUES ('change_seq', 0), ('facts_seq', 0), ('log_start', 0);

-- The change log search nodes follow: per transaction (seq), each dataset whose shown record
-- was written or is no longer shown.
CREATE TABLE changes (
    seq BIGINT NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    removed BOOLEAN NOT NULL,
    PRIMARY KEY (seq, id)
);
CREATE TABLE change_times (seq BIGINT PRIMARY KEY, at TIMESTAMPTZ NOT NULL);

CREATE TABLE links (
    url TEXT COLLATE "C" PRIMARY KEY,
    ok BOOLEAN NOT NULL,
    status INTEGER,
    error TEXT,
    elapsed_ms BIGINT NOT NULL,
    checked_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE searches (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    query TEXT NOT NULL,
    filters TEXT NOT NULL,
    total BIGINT NOT NULL
);
CREATE INDEX searches_at ON searches (at);

CREATE TABLE requests (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    request TEXT NOT NULL
);

CREATE TABLE snapshots (
    day TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (day, kind)
);
