-- The first schema, exactly as the SQLite store created it before migrations were
-- versioned: IF NOT EXISTS makes this a no-op on such a database, which then simply
-- records version 1.
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  token_hash BLOB NOT NULL UNIQUE,
  created_at REAL NOT NULL DEFAULT (unixepoch('now'))
);
CREATE TABLE IF NOT EXISTS shares (
  h BLOB PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner INTEGER NOT NULL REFERENCES users(id),
  state TEXT NOT NULL,
  created_at REAL NOT NULL,
  expires_at REAL NOT NULL,
  max_reveals INTEGER NOT NULL,
  reveals_left INTEGER NOT NULL,
  fails_left INTEGER NOT NULL,
  salt BLOB NOT NULL,
  kdf_params TEXT NOT NULL,
  verifier BLOB NOT NULL,
  nonce BLOB,
  sealed BLOB,
  content_bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS shares_live ON shares(state, expires_at);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  share_id TEXT NOT NULL,
  at REAL NOT NULL,
  event TEXT NOT NULL,
  client TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_share ON audit(share_id);
CREATE TABLE IF NOT EXISTS counters (
  key TEXT NOT NULL,
  window INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key, window)
);
