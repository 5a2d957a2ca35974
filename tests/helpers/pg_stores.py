"""New team stores for tests, made cheaply: a store a test is done with is emptied and handed to
the next test under a new schema name, instead of creating a schema and running every migration
again (about 80 ms of server CPU per store, most of a PostgreSQL test's cost).

A store is reused only when it is indistinguishable from a new one: its catalog (tables, columns
and defaults, indexes, constraints, triggers, views, functions, sequences, policies, owners,
privileges and options) must equal that of a store just made, compared with the schema name taken
out; otherwise it is dropped. Reuse deletes every row with triggers and foreign keys off, puts back
the rows the migrations wrote (copied from a template store that no test touches) and sets every
sequence to the template's value. The new name keeps anything keyed by the connection string from
carrying over."""

from __future__ import annotations

import itertools
import os

from psycopg import sql

from .pgcluster import Cluster

_CATALOG = """
SELECT md5(coalesce(string_agg(replace(x, %(prefix)s, ''), E'\\n' ORDER BY x), '')) FROM (
  SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || pg_get_userbyid(c.relowner) || ' '
         || coalesce(c.relacl::text, '') || ' ' || coalesce(c.reloptions::text, '') || ' '
         || c.relrowsecurity::text || ' ' || c.relreplident::text AS x
    FROM pg_class c WHERE c.relnamespace = %(ns)s::regnamespace
  UNION ALL
  SELECT 'col ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' '
         || a.attnotnull::text || ' ' || a.attidentity::text || ' ' || a.attgenerated::text || ' '
         || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' ' || coalesce(a.attacl::text, '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE c.relnamespace = %(ns)s::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'idx ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = %(ns)s::regnamespace
  UNION ALL
  SELECT 'con ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
   WHERE connamespace = %(ns)s::regnamespace
  UNION ALL
  SELECT 'trg ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
   WHERE c.relnamespace = %(ns)s::regnamespace AND NOT t.tgisinternal
  UNION ALL
  SELECT 'view ' || c.relname || ' ' || pg_get_viewdef(c.oid) FROM pg_class c
   WHERE c.relnamespace = %(ns)s::regnamespace AND c.relkind IN ('v', 'm')
  UNION ALL
  SELECT 'fn ' || pg_get_functiondef(p.oid) || ' ' || coalesce(p.proacl::text, '') FROM pg_proc p
   WHERE p.pronamespace = %(ns)s::regnamespace
  UNION ALL
  SELECT 'seq ' || c.relname || ' ' || s.seqtypid::regtype::text || ' ' || s.seqstart || ' ' || s.seqincrement
         || ' ' || s.seqmin || ' ' || s.seqmax || ' ' || s.seqcycle::text
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = %(ns)s::regnamespace
  UNION ALL
  SELECT 'pol ' || p.polname || ' ' || c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
   WHERE c.relnamespace = %(ns)s::regnamespace
  UNION ALL
  SELECT 'ns ' || pg_get_userbyid(n.nspowner) || ' ' || coalesce(n.nspacl::text, '') FROM pg_namespace n
   WHERE n.oid = %(ns)s::regnamespace
) q
"""


_pools = itertools.count()


class StorePool:
    """Migrated, empty team stores on one cluster, each under a schema name never used before."""

    def __init__(self, cluster: Cluster) -> None:
        import psycopg

        self.cluster = cluster
        self.conn = psycopg.connect(cluster.url(), autocommit=True)
        pool = next(_pools)
        self._names = (f"t{os.getpid()}_{pool}_{n}" for n in itertools.count())
        self.template = f"template_{os.getpid()}_{pool}"
        self._new_store(self.template)
        self.catalog = self._catalog(self.template)
        self.tables = [r[0] for r in self.conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind IN ('r', 'p') "
            "ORDER BY relname", (self.template,))]
        self.seeded = [t for t in self.tables if self.conn.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(self.template, t))).fetchone()[0]]
        self.sequences = [r[0] for r in self.conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind = 'S'",
            (self.template,))]
        self.free: list[str] = []
        self.made = self.reused = 0

    def url(self, schema: str) -> str:
        return self.cluster.url(options=f"-csearch_path%3D{schema},public")

    def take(self) -> str:
        """The schema of a new store: a reused one renamed, or one made now."""
        name = next(self._names)
        while self.free:
            old = self.free.pop()
            try:
                self.conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(old), sql.Identifier(name)))
            except Exception:  # noqa: BLE001 - a store that cannot be renamed is not reused
                continue
            self.reused += 1
            return name
        self._new_store(name)
        self.made += 1
        return name

    def give_back(self, schema: str) -> None:
        """After a test: empty the store for the next one, or drop it when it is not as new."""
        try:
            reusable = self._catalog(schema) == self.catalog
        except Exception:  # noqa: BLE001 - the schema is gone or the server was restarted
            return
        if reusable and self._empty(schema):
            self.free.append(schema)
            return
        try:
            self.conn.execute("SET lock_timeout = '2s'")
            self.conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        except Exception:  # noqa: BLE001 - a connection the test left open holds it: leave it be
            pass
        finally:
            self.conn.execute("RESET lock_timeout")

    def _new_store(self, schema: str) -> None:
        from mist_qgis.core.store import open_store

        self.conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        with open_store(self.url(schema)):
            pass

    def _catalog(self, schema: str) -> str:
        prefix = self.conn.execute("SELECT quote_ident(%s) || '.'", (schema,)).fetchone()[0]  # as the catalog writes it
        return self.conn.execute(_CATALOG, {"ns": schema, "prefix": prefix}).fetchone()[0]

    def _empty(self, schema: str) -> bool:
        """Delete every row, put back the template's, reset the sequences; False if it could not."""
        try:
            with self.conn.transaction():
                self.conn.execute("SET LOCAL lock_timeout = '2s'")
                self.conn.execute("SET LOCAL session_replication_role = replica")  # no triggers, no FK checks
                for table in self.tables:
                    self.conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(schema, table)))
                for table in self.seeded:
                    self.conn.execute(sql.SQL("INSERT INTO {} OVERRIDING SYSTEM VALUE SELECT * FROM {}").format(
                        sql.Identifier(schema, table), sql.Identifier(self.template, table)))
                for seq in self.sequences:
                    last, called = self.conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(
                        sql.Identifier(self.template, seq))).fetchone()
                    self.conn.execute("SELECT setval(%s::regclass, %s, %s)",
                                      (sql.Identifier(schema, seq).as_string(self.conn), last, called))
        except Exception:  # noqa: BLE001 - held by a connection the test left open
            return False
        return True

    def close(self) -> None:
        self.conn.close()
