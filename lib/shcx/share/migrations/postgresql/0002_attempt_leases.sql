-- Share-store hardening (docs/share-protocol-hardening.md), the same change as
-- sqlite/0002_attempt_leases.sql.
--
-- Attempt leases replace the one fails_left counter, which mixed wrong PINs with attempts
-- charged by requests still in flight, so a crash left attempts charged for ever. Burned
-- attempts are exactly the recorded wrong PINs: they are recounted from the audit trail,
-- and a share stuck by a crash becomes usable again.
ALTER TABLE shares ADD COLUMN fails_allowed INTEGER NOT NULL DEFAULT 5,
                   ADD COLUMN fails_burned INTEGER NOT NULL DEFAULT 0;
UPDATE shares SET fails_burned = LEAST(fails_allowed,
  (SELECT count(*) FROM audit WHERE audit.share_id = shares.id AND audit.event = 'wrong_pin'));
ALTER TABLE shares DROP COLUMN fails_left;
CREATE INDEX shares_owner ON shares(owner);
-- One row per PIN check in flight, from any instance; it lapses at expires_at if its
-- request never ends. Every change to a share's leases first locks the share's row.
CREATE TABLE attempt_leases (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  h BYTEA NOT NULL,
  expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX attempt_leases_h ON attempt_leases(h, expires_at);
-- API tokens that expire, and when each was last used (to the minute).
ALTER TABLE users ADD COLUMN expires_at DOUBLE PRECISION,
                  ADD COLUMN last_used_at DOUBLE PRECISION;
-- The pepper's fingerprint (key 'pepper_check').
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value BYTEA NOT NULL
);
