-- The owner's alert on break glass (docs/emergency.md, "The owner's alert"), the same
-- change as sqlite/0004_emergency_alerts.sql.
--
-- emergency_notify: where an emergency share's owner wants to hear of break glass, and
-- the webhook secret sealed under a key derived from the pepper and the share id (the
-- server must sign without the link). It dies with the share: the trigger deletes it when
-- the share leaves 'live'.
CREATE TABLE emergency_notify (
  share_id TEXT PRIMARY KEY REFERENCES shares(id),
  url TEXT NOT NULL,
  nonce BYTEA NOT NULL,
  sealed_secret BYTEA NOT NULL
);
CREATE FUNCTION emergency_notify_wipe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM emergency_notify WHERE share_id = NEW.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER emergency_notify_wipe AFTER UPDATE OF state ON shares FOR EACH ROW
  WHEN (NEW.state <> 'live') EXECUTE FUNCTION emergency_notify_wipe();
-- The outbox: one row per break glass, written in the read's transaction, carrying its
-- own copy of the URL and sealed secret so that it is delivered even when the patient
-- revokes the share right after. The copy of the secret is wiped once delivered or given
-- up. state: pending, delivered, failed (given up after the last attempt). Several
-- servers claim due rows with FOR UPDATE SKIP LOCKED and a lease (lease_until).
CREATE TABLE emergency_alerts (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  share_id TEXT NOT NULL,
  at DOUBLE PRECISION NOT NULL,
  tier TEXT NOT NULL,
  attestation TEXT NOT NULL,
  address TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  url TEXT NOT NULL,
  nonce BYTEA,
  sealed_secret BYTEA,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at DOUBLE PRECISION NOT NULL,
  lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  done_at DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX emergency_alerts_due ON emergency_alerts(state, next_at);
CREATE INDEX emergency_alerts_share ON emergency_alerts(share_id, seq);
