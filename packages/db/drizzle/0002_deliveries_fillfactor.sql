-- A claim rewrites a delivery row (its lease and attempt count) without changing an indexed column.
-- With a fifth of each page left free, the new version fits on the same page, so Postgres updates it
-- in place (a HOT update) and writes no index entries. Drizzle's schema cannot declare a storage
-- parameter, so this migration sets it.
ALTER TABLE "deliveries" SET (fillfactor = 80);
