// PostgreSQL only: one sequencing pass (pg-sequencer.ts) is one call of gantry_sequence(), in
// autocommit: the advisory lock that makes one sequencer at a time, the numbering and the NOTIFY, in
// one round trip and with a plan kept by the function. It was two round trips and a multi-statement
// text planned afresh on every pass (a third of the pass's server time under a steady stream of
// fleet writes, bench/fleet).
export const name = 'event_sequencer';
export const sql = '';

/** Run whole, PostgreSQL only. The lock id and channel are the sequencer's (pg-sequencer.ts, event-append.ts). */
export const postgres = [
  `CREATE FUNCTION gantry_sequence(lock_id bigint, batch integer, channel text) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  n integer;
BEGIN
  PERFORM pg_advisory_xact_lock(lock_id);
  -- A statement after the lock: its snapshot sees every pass committed before this one.
  WITH base AS (SELECT COALESCE(MAX(seq), 0) AS b FROM events),
       pending AS (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM events WHERE seq IS NULL ORDER BY id LIMIT batch),
       upd AS (UPDATE events e SET seq = base.b + pending.rn FROM pending, base WHERE e.id = pending.id RETURNING e.seq)
  SELECT COUNT(*) INTO n FROM upd;
  IF n > 0 THEN
    PERFORM pg_notify(channel, '');
  END IF;
  RETURN n;
END
$fn$`,
];
