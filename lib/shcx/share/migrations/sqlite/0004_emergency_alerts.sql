-- The owner's alert on break glass (docs/emergency.md, "The owner's alert"), the same
-- change as postgresql/0004_emergency_alerts.sql.
--
-- emergency_notify: where an emergency share's owner wants to hear of break glass, and
-- the webhook secret sealed under a key derived from the pepper and the share id (the
-- server must sign without the link). It dies with the share: the trigger deletes it when
-- the share leaves 'live'.
CREATE TABLE emergency_notify (
  share_id TEXT PRIMARY KEY REFERENCES shares(id),
  url TEXT NOT NULL,
  nonce BLOB NOT NULL,
  sealed_secret BLOB NOT NULL
);
CREATE TRIGGER emergency_notify_wipe AFTER UPDATE OF state ON shares WHEN NEW.state <> 'live'
BEGIN
  DELETE FROM emergency_notify WHERE share_id = NEW.id;
END;
-- The outbox: one row per break glass, written in the read's transaction, carrying its
-- own copy of the URL and sealed secret so that it is delivered even when the patient
-- revokes the share right after. The copy of the secret is wiped once delivered or given up.
-- state: pending, delivered, failed (given up after the last attempt).
CREATE TABLE emergency_alerts (
  seq INTEGER PRIMARY KEY,
  share_id TEXT NOT NULL,
  at REAL NOT NULL,
  tier TEXT NOT NULL,
  attestation TEXT NOT NULL,
  address TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  url TEXT NOT NULL,
  nonce BLOB,
  sealed_secret BLOB,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL,
  lease_until REAL NOT NULL DEFAULT 0,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  done_at REAL NOT NULL DEFAULT 0
);
CREATE INDEX emergency_alerts_due ON emergency_alerts(state, next_at);
CREATE INDEX emergency_alerts_share ON emergency_alerts(share_id, seq);
