-- Keyed entries of the notifier and the organisation pages: saved searches, deliveries
-- made, the last notice per organisation (samla_store::Store::put_entry).
CREATE TABLE entries (
    kind TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
