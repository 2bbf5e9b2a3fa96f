-- Emergency shares (docs/emergency.md), the same change as sqlite/0003_emergency.sql.
--
-- An emergency share is a row in `shares` (its full tier behind the PIN, through the
-- ordinary attempt budget) plus one row here: the emergency tier and the break-glass copy
-- of the full tier, each sealed under a key derived from the link's sid, and the
-- break-glass limits. The rows die together: the trigger below wipes this row whenever
-- its share leaves 'live' (revoked, expired, destroyed, used), in the same transaction.
CREATE TABLE emergency_tiers (
  share_id TEXT PRIMARY KEY REFERENCES shares(id),
  label TEXT NOT NULL,
  nonce_emergency BYTEA,
  sealed_emergency BYTEA,
  nonce_full BYTEA,
  sealed_full BYTEA,
  break_glass_max_uses INTEGER NOT NULL,
  break_glass_pause DOUBLE PRECISION NOT NULL,
  break_glass_uses INTEGER NOT NULL DEFAULT 0,
  break_glass_paused_until DOUBLE PRECISION NOT NULL DEFAULT 0
);
ALTER TABLE emergency_tiers ALTER COLUMN sealed_full SET STORAGE EXTERNAL;
CREATE FUNCTION emergency_tiers_wipe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE emergency_tiers SET nonce_emergency = NULL, sealed_emergency = NULL, nonce_full = NULL,
    sealed_full = NULL WHERE share_id = NEW.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER emergency_tiers_wipe AFTER UPDATE OF state ON shares FOR EACH ROW
  WHEN (NEW.state <> 'live') EXECUTE FUNCTION emergency_tiers_wipe();
-- Every access to an emergency share: who asked for which tier and how. Never health data.
CREATE TABLE emergency_access (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  share_id TEXT NOT NULL,
  at DOUBLE PRECISION NOT NULL,
  tier TEXT NOT NULL,
  via TEXT NOT NULL,
  attestation TEXT NOT NULL,
  address TEXT NOT NULL,
  user_agent TEXT NOT NULL
);
CREATE INDEX emergency_access_share ON emergency_access(share_id, seq);
