-- The share store on PostgreSQL: the same tables and meaning as the SQLite schema
-- (migrations/sqlite/0001_initial.sql). Times are seconds since the epoch, as doubles,
-- like everywhere else in the store. See docs/postgresql.md.
CREATE TABLE users (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  token_hash BYTEA NOT NULL UNIQUE,
  created_at DOUBLE PRECISION NOT NULL DEFAULT extract(epoch FROM now())
);
CREATE TABLE shares (
  h BYTEA PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner BIGINT NOT NULL REFERENCES users(id),
  state TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  expires_at DOUBLE PRECISION NOT NULL,
  max_reveals INTEGER NOT NULL,
  reveals_left INTEGER NOT NULL,
  fails_left INTEGER NOT NULL,
  salt BYTEA NOT NULL,
  kdf_params TEXT NOT NULL,
  verifier BYTEA NOT NULL,
  nonce BYTEA,
  sealed BYTEA,
  content_bytes BIGINT NOT NULL
);
-- The sealed blob is ciphertext: compressing it only costs CPU.
ALTER TABLE shares ALTER COLUMN sealed SET STORAGE EXTERNAL;
-- Wiped ciphertext stays in dead row versions until VACUUM reclaims them: vacuum this
-- small, hot table (and its TOAST table, where large blobs live) after every 20 changed
-- rows instead of after 20% of the table.
ALTER TABLE shares SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20,
                        toast.autovacuum_vacuum_scale_factor = 0, toast.autovacuum_vacuum_threshold = 20);
CREATE INDEX shares_live ON shares(state, expires_at);
CREATE TABLE audit (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  share_id TEXT NOT NULL,
  at DOUBLE PRECISION NOT NULL,
  event TEXT NOT NULL,
  client TEXT NOT NULL
);
CREATE INDEX audit_share ON audit(share_id);
-- "window" is a reserved word in PostgreSQL.
CREATE TABLE counters (
  key TEXT NOT NULL,
  window_no BIGINT NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (key, window_no)
);
