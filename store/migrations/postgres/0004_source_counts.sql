-- Each source's active (not archived) records, kept by every apply (samla_store's
-- apply::apply_runs), so the sources' counts are a row each, not a scan of every record.
CREATE TABLE source_counts (
    source_id TEXT COLLATE "C" PRIMARY KEY,
    active BIGINT NOT NULL
);
INSERT INTO source_counts (source_id, active)
    SELECT source_id, count(*) FILTER (WHERE archived_at IS NULL) FROM records GROUP BY source_id;
