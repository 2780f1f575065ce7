-- Who searched, unlinkably (a hash under a daily salt), and what the results were about
-- (samla_store::LoggedSearch).
ALTER TABLE searches ADD COLUMN visitor TEXT NOT NULL DEFAULT '';
ALTER TABLE searches ADD COLUMN about TEXT NOT NULL DEFAULT '[]';
