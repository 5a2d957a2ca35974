"""PostgreSQL objects of a team store: the change counter, verdict notifications and the roles.

- `mist_changes` (a sequence) moves on every statement that writes posts, media, predictions or
  verdicts: `PRAGMA data_version`'s counterpart, which readers poll cheaply.
- Every verdict written or removed is announced on the channel `mist_changes` with a JSON
  payload (schema, op, fid, post_fid, media_fid, analyst, verdict), so the other analysts' docks
  update without reloading (`core/store/pg.py: watch_changes`).
- Roles are PostgreSQL's own: `mist_analyst` reads everything and writes verdicts, leases, post
  categories and the verdict and category fields of posts; `mist_lead` may do everything
  (import, train, delete, settings). Logins are made members of one of them (README, "Working
  as a team"). Reading (analysts) and everything (leads) is granted on every table by the
  migration runner after each migration (`TABLE_RIGHTS_SQL`), so a table a later migration adds
  is never left to its owner alone; the migration that adds a table grants analysts' writes.
"""

from __future__ import annotations

CHANNEL = "mist_changes"
ANALYST_ROLE = "mist_analyst"
LEAD_ROLE = "mist_lead"

TEAM_SQL = r"""
CREATE SEQUENCE IF NOT EXISTS mist_changes;
CREATE OR REPLACE FUNCTION mist_bump_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- qualified: QGIS's own connections edit posts without the store's schema on their search path
  PERFORM nextval((quote_ident(TG_TABLE_SCHEMA) || '.mist_changes')::regclass);
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION mist_notify_verdict() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  PERFORM pg_notify('mist_changes', json_build_object(
    'schema', TG_TABLE_SCHEMA, 'op', lower(TG_OP), 'fid', r.fid, 'post_fid', r.post_fid,
    'media_fid', r.media_fid, 'analyst', r.analyst, 'verdict', r.verdict,
    'verified_at', r.verified_at)::text);
  RETURN NULL;
END $$;
CREATE TRIGGER mist_verdict_notify AFTER INSERT OR DELETE ON verifications
  FOR EACH ROW EXECUTE FUNCTION mist_notify_verdict();
CREATE TRIGGER mist_posts_changes AFTER INSERT OR UPDATE OR DELETE ON posts
  FOR EACH STATEMENT EXECUTE FUNCTION mist_bump_changes();
CREATE TRIGGER mist_media_changes AFTER INSERT OR UPDATE OR DELETE ON media
  FOR EACH STATEMENT EXECUTE FUNCTION mist_bump_changes();
CREATE TRIGGER mist_predictions_changes AFTER INSERT OR UPDATE OR DELETE ON predictions
  FOR EACH STATEMENT EXECUTE FUNCTION mist_bump_changes();
CREATE TRIGGER mist_verifications_changes AFTER INSERT OR UPDATE OR DELETE ON verifications
  FOR EACH STATEMENT EXECUTE FUNCTION mist_bump_changes();
"""

ROLES_SQL = r"""
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mist_analyst') THEN
    CREATE ROLE mist_analyst NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mist_lead') THEN
    CREATE ROLE mist_lead NOLOGIN;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO mist_analyst, mist_lead', current_schema());
  EXECUTE format('GRANT CREATE ON SCHEMA %I TO mist_lead', current_schema());
  GRANT INSERT, DELETE ON verifications TO mist_analyst;
  GRANT INSERT, UPDATE, DELETE ON leases TO mist_analyst;
  GRANT UPDATE (verified, verified_by, verified_at, water_depth_m, note) ON posts TO mist_analyst;
END $$;
"""

TABLE_RIGHTS_SQL = r"""
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'mist_analyst')
     AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'mist_lead') THEN
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO mist_analyst', current_schema());
    EXECUTE format('GRANT ALL ON ALL TABLES IN SCHEMA %I TO mist_lead', current_schema());
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO mist_analyst, mist_lead',
                   current_schema());
  END IF;
END $$;
"""


def install_team_objects(conn) -> None:
    """Create the counter, the triggers and (when this login may) the roles with analysts' writes."""
    conn.execute_script(TEAM_SQL)
    conn.execute_script(ROLES_SQL)


def grant_table_rights(conn) -> None:
    """Reading to analysts and everything to leads on every table and sequence of the store, once
    the roles exist: run by the migration runner after each migration."""
    conn.execute_script(TABLE_RIGHTS_SQL)
