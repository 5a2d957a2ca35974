"""The store's schema as an ordered list of migrations.

Version N of a store is the result of applying migrations 1..N in order. A store is only ever
moved forward; each migration runs inside one transaction together with its version bump, so a
crash mid-migration leaves the previous version intact.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from . import gpkg, pg_ddl
from .dialect import LISTED_ATTRIBUTE_TABLES


def ddl_for(conn):
    """The DDL helpers of a connection's backend: `gpkg` for SQLite, `pg_ddl` for PostgreSQL."""
    return pg_ddl if getattr(conn, "dialect", "sqlite") == "postgresql" else gpkg


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[sqlite3.Connection], None]


# Fields shared with QGIS's native:importphotos, post fields and result fields (DESIGN section 3).
POST_COLUMNS = """
    fid INTEGER PRIMARY KEY AUTOINCREMENT,
    geom POINT,
    post_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    author_hash TEXT,
    text TEXT,
    lang TEXT,
    url TEXT,
    media_url TEXT,
    timestamp DATETIME,
    geo_source TEXT NOT NULL DEFAULT 'none',
    geo_accuracy_m REAL,
    photo TEXT,
    filename TEXT,
    directory TEXT,
    direction REAL,
    altitude REAL,
    is_repost BOOLEAN NOT NULL DEFAULT 0,
    source_file TEXT,
    source_line INTEGER,
    attributes TEXT,
    cls_label TEXT,
    cls_score REAL,
    cls_model TEXT,
    match_ref TEXT,
    match_score REAL,
    verified TEXT,
    verified_by TEXT,
    verified_at DATETIME,
    water_depth_m REAL,
    note TEXT,
    orig_lon REAL,
    orig_lat REAL,
    import_run INTEGER,
    CONSTRAINT uq_posts_platform_id UNIQUE (platform, post_id)
"""


def _v1_core(conn: sqlite3.Connection) -> None:
    ddl = ddl_for(conn)
    ddl.create_core_tables(conn)
    ddl.execute_script(conn,
        f"""
        CREATE TABLE posts ({POST_COLUMNS});
        CREATE INDEX idx_posts_timestamp ON posts (timestamp);
        CREATE TABLE media (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            post_fid INTEGER NOT NULL REFERENCES posts (fid) ON DELETE CASCADE,
            position INTEGER NOT NULL DEFAULT 0,
            kind TEXT NOT NULL DEFAULT 'photo',
            url TEXT,
            source_path TEXT,
            cache_path TEXT,
            sha256 TEXT,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'ok', 'failed', 'skipped')),
            error TEXT,
            width INTEGER,
            height INTEGER,
            bytes INTEGER,
            content_type TEXT,
            fetched_at DATETIME,
            phash TEXT,
            duplicate_of INTEGER REFERENCES media (fid),
            exif TEXT,
            CONSTRAINT uq_media_post_position UNIQUE (post_fid, position)
        );
        CREATE INDEX idx_media_status ON media (status);
        CREATE INDEX idx_media_sha256 ON media (sha256);
        CREATE TABLE runs (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            parameters TEXT NOT NULL DEFAULT '{{}}',
            started_at DATETIME NOT NULL,
            finished_at DATETIME,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
            counts TEXT NOT NULL DEFAULT '{{}}',
            message TEXT
        );
        CREATE TABLE issues (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            run_fid INTEGER REFERENCES runs (fid) ON DELETE CASCADE,
            stage TEXT NOT NULL,
            source TEXT,
            line INTEGER,
            reason TEXT NOT NULL
        );
        CREATE INDEX idx_issues_run ON issues (run_fid);
        """
    )
    ddl.register_features_table(conn, "posts", "POINT", description="Social-media posts")
    for table, description in (
        ("media", "Photos and videos of posts"),
        ("runs", "What ran on this store"),
        ("issues", "Records skipped or flagged by a run, with the reason"),
    ):
        ddl.register_attributes_table(conn, table, description)


def _v2_results(conn: sqlite3.Connection) -> None:
    ddl = ddl_for(conn)
    ddl.execute_script(conn,
        """
        CREATE TABLE predictions (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            media_fid INTEGER NOT NULL REFERENCES media (fid) ON DELETE CASCADE,
            model TEXT NOT NULL,
            label TEXT NOT NULL,
            score REAL NOT NULL,
            run_fid INTEGER REFERENCES runs (fid),
            created_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
        );
        CREATE INDEX idx_predictions_media ON predictions (media_fid, model);
        CREATE TABLE embeddings (
            media_fid INTEGER NOT NULL REFERENCES media (fid) ON DELETE CASCADE,
            model TEXT NOT NULL,
            dim INTEGER NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (media_fid, model)
        );
        CREATE TABLE matches (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            media_fid INTEGER NOT NULL REFERENCES media (fid) ON DELETE CASCADE,
            ref_id TEXT NOT NULL,
            matcher TEXT NOT NULL,
            n_matches INTEGER NOT NULL,
            score_sum REAL,
            error_indicator REAL,
            paper_rate REAL,
            inliers INTEGER,
            inlier_ratio REAL,
            confidence REAL,
            run_fid INTEGER REFERENCES runs (fid),
            created_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
        );
        CREATE INDEX idx_matches_media ON matches (media_fid);
        CREATE TABLE verifications (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            post_fid INTEGER NOT NULL REFERENCES posts (fid) ON DELETE CASCADE,
            media_fid INTEGER REFERENCES media (fid) ON DELETE CASCADE,
            verdict TEXT NOT NULL CHECK (verdict IN ('flood', 'not_flood', 'unsure')),
            water_depth_m REAL,
            note TEXT,
            analyst TEXT NOT NULL,
            verified_at DATETIME NOT NULL
        );
        CREATE INDEX idx_verifications_post ON verifications (post_fid);
        CREATE VIEW unlocated_posts AS
            SELECT fid, post_id, platform, author_hash, text, lang, url, media_url, timestamp,
                   source_file, source_line
            FROM posts WHERE geom IS NULL;
        """
    )
    for table, description in (
        ("predictions", "Classifier outputs per photo"),
        ("embeddings", "Cached photo embeddings per model"),
        ("matches", "Photo-to-reference matches"),
        ("verifications", "Analysts' verdicts"),
        ("unlocated_posts", "Posts that could not be placed yet"),
    ):
        ddl.register_attributes_table(conn, table, description)


def _v3_verification_indexes(conn: sqlite3.Connection) -> None:
    """Indexes the verification queue pages on: latest verdict per photo, screening score order
    per model and label, and each analyst's verdicts (agreement)."""
    ddl = ddl_for(conn)
    ddl.execute_script(conn,
        """
        CREATE INDEX IF NOT EXISTS idx_verifications_media ON verifications (media_fid);
        CREATE INDEX IF NOT EXISTS idx_verifications_analyst ON verifications (analyst);
        CREATE INDEX IF NOT EXISTS idx_predictions_model_label_score ON predictions (model, label, score);
        """
    )


def _v4_geolocation(conn: sqlite3.Connection) -> None:
    """Reference imagery (point + heading + image), its cached features, text-derived coarse
    locations, and one line per geolocated post (old -> new location)."""
    ddl = ddl_for(conn)
    ddl.execute_script(conn,
        """
        CREATE TABLE "references" (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            geom POINT,
            ref_uid TEXT NOT NULL UNIQUE,
            ref_id TEXT NOT NULL,
            collection TEXT NOT NULL,
            location_id TEXT,
            heading REAL,
            view_offset REAL,
            image_path TEXT NOT NULL,
            width INTEGER,
            height INTEGER,
            accuracy_m REAL,
            position_note TEXT,
            captured_at DATETIME,
            source_format TEXT,
            source_file TEXT,
            source_line INTEGER,
            import_run INTEGER REFERENCES runs (fid)
        );
        CREATE INDEX idx_references_collection ON "references" (collection);
        CREATE INDEX idx_references_location ON "references" (location_id);
        CREATE TABLE reference_features (
            ref_fid INTEGER NOT NULL REFERENCES "references" (fid) ON DELETE CASCADE,
            matcher TEXT NOT NULL,
            n_keypoints INTEGER NOT NULL,
            dim INTEGER NOT NULL,
            embedding BLOB NOT NULL,
            features BLOB NOT NULL,
            image_bytes INTEGER,
            image_mtime REAL,
            created_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            PRIMARY KEY (ref_fid, matcher)
        );
        CREATE TABLE coarse_locations (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            geom POINT,
            post_fid INTEGER NOT NULL REFERENCES posts (fid) ON DELETE CASCADE,
            toponym TEXT NOT NULL,
            gazetteer_name TEXT,
            kind TEXT,
            confidence REAL,
            radius_m REAL,
            samples TEXT,
            run_fid INTEGER REFERENCES runs (fid)
        );
        CREATE INDEX idx_coarse_locations_post ON coarse_locations (post_fid);
        CREATE TABLE geolocations (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            geom LINESTRING,
            post_fid INTEGER NOT NULL REFERENCES posts (fid) ON DELETE CASCADE,
            media_fid INTEGER REFERENCES media (fid) ON DELETE SET NULL,
            matcher TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('mist', 'paper')),
            status TEXT NOT NULL CHECK (status IN ('moved', 'unmatched', 'skipped', 'failed')),
            reason TEXT,
            ref_uid TEXT,
            from_lon REAL,
            from_lat REAL,
            to_lon REAL,
            to_lat REAL,
            shift_m REAL,
            confidence REAL,
            paper_rate REAL,
            inliers INTEGER,
            accuracy_m REAL,
            run_fid INTEGER REFERENCES runs (fid),
            created_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            CONSTRAINT uq_geolocations_post UNIQUE (post_fid, matcher, mode)
        );
        """
    )
    ddl.register_features_table(conn, "references", "POINT", description="Reference images with heading")
    ddl.register_features_table(conn, "coarse_locations", "POINT", description="Coarse locations from post text")
    ddl.register_features_table(conn, "geolocations", "LINESTRING",
                                 description="Photo geolocation: old -> new location per post")
    ddl.register_attributes_table(conn, "reference_features", "Cached reference image features per matcher")


def _v5_run_owner(conn: sqlite3.Connection) -> None:
    # which process runs a run: a run whose process has ended without finishing it was interrupted
    conn.execute("ALTER TABLE runs ADD COLUMN host TEXT")
    conn.execute("ALTER TABLE runs ADD COLUMN pid INTEGER")


def _v6_team(conn: sqlite3.Connection) -> None:
    """Several analysts at once: "next post" leases (a post handed to an analyst until the lease
    expires or the verdict lands) and an index for "who judged this post". On PostgreSQL also
    the change counter and notifications other analysts' docks listen to, and the two roles."""
    ddl = ddl_for(conn)
    ddl.execute_script(conn,
        """
        CREATE TABLE leases (
            post_fid INTEGER NOT NULL REFERENCES posts (fid) ON DELETE CASCADE,
            analyst TEXT NOT NULL,
            leased_at DATETIME NOT NULL,
            expires_at DATETIME NOT NULL,
            PRIMARY KEY (post_fid, analyst)
        );
        CREATE INDEX idx_leases_expires ON leases (expires_at);
        CREATE INDEX idx_verifications_post_analyst ON verifications (post_fid, analyst);
        CREATE INDEX idx_posts_unverified ON posts (fid) WHERE verified IS NULL;
        """
    )
    ddl.register_attributes_table(conn, "leases", "Posts handed to analysts by next post")
    if getattr(conn, "dialect", "sqlite") == "postgresql":
        from .pg_team import install_team_objects

        install_team_objects(conn)


def _v7_verdicts_and_photos(conn: sqlite3.Connection) -> None:
    # Posts mirror their photos' current verdicts under one rule (the latest recorded verdict
    # covering each photo); mirrors written under the earlier rule are recomputed once. The
    # `photo` field, empty before, points at each post's cached photo.
    from .photos_sql import set_post_photos
    from .verify_sql import refresh_mirrors

    refresh_mirrors(conn)
    set_post_photos(conn)
def _v11_live(conn: sqlite3.Connection) -> None:
    # where each watched source stopped (written with the posts it produced) and the alerts raised
    ddl = ddl_for(conn)
    ddl.execute_script(conn,
        """
        CREATE TABLE live_cursors (
            source TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            updated_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
        );
        CREATE TABLE alerts (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            geom POINT,
            post_fid INTEGER NOT NULL REFERENCES posts (fid) ON DELETE CASCADE,
            group_key TEXT NOT NULL,
            rule TEXT NOT NULL,
            score REAL,
            label TEXT,
            text TEXT,
            posts INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
            run_fid INTEGER REFERENCES runs (fid),
            created_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            CONSTRAINT uq_alerts_group UNIQUE (group_key)
        );
        CREATE TABLE alert_posts (
            post_fid INTEGER PRIMARY KEY REFERENCES posts (fid) ON DELETE CASCADE,
            alert_fid INTEGER NOT NULL REFERENCES alerts (fid) ON DELETE CASCADE
        );
        """
    )
    ddl.register_features_table(conn, "alerts", "POINT", description="Posts that met a live alert rule")
    ddl.register_attributes_table(conn, "live_cursors", "Where each watched source stopped")


def _v13_live_learning(conn: sqlite3.Connection) -> None:
    # the screening head's versions while a watch learns; each live source's last poll, for the
    # dock; when a photo that failed for a passing reason may be fetched again
    ddl = ddl_for(conn)
    ddl.execute_script(conn,
        """
        CREATE TABLE head_versions (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            model TEXT NOT NULL,
            path TEXT,
            lineage TEXT NOT NULL,
            verdicts INTEGER NOT NULL DEFAULT 0,
            f1 REAL,
            skill TEXT,
            status TEXT NOT NULL CHECK (status IN ('active', 'retired', 'rejected')),
            reason TEXT,
            scored INTEGER NOT NULL DEFAULT 0,
            run_fid INTEGER REFERENCES runs (fid),
            created_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            CONSTRAINT uq_head_versions_model UNIQUE (model)
        );
        CREATE TABLE live_sources (
            source TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            state TEXT NOT NULL,
            failures INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_poll_at DATETIME,
            polled_at DATETIME NOT NULL
        );
        ALTER TABLE media ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE media ADD COLUMN retry_failed_at DATETIME;
        CREATE INDEX idx_media_retry ON media (retry_failed_at) WHERE retry_failed_at IS NOT NULL;
        """
    )
    ddl.register_attributes_table(conn, "head_versions", "Versions of the screening head a live watch trained")
    ddl.register_attributes_table(conn, "live_sources", "Each watched source's last poll, state and backoff")


def _v8_post_text(conn: sqlite3.Connection) -> None:
    """Text screening keyed by post: features, multi-label categories and the team's list."""
    ddl = ddl_for(conn)
    ddl.execute_script(conn,
        """
        ALTER TABLE posts ADD COLUMN text_categories TEXT;
        ALTER TABLE posts ADD COLUMN text_category_source TEXT;
        ALTER TABLE posts ADD COLUMN text_confidence REAL;
        CREATE TABLE text_categories (
            name TEXT PRIMARY KEY,
            title TEXT,
            position INTEGER NOT NULL DEFAULT 0,
            keywords TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE post_text_features (
            post_fid INTEGER NOT NULL REFERENCES posts (fid) ON DELETE CASCADE,
            model TEXT NOT NULL,
            dim INTEGER NOT NULL,
            format TEXT NOT NULL CHECK (format IN ('dense', 'sparse')),
            vector BLOB NOT NULL,
            PRIMARY KEY (post_fid, model)
        );
        CREATE TABLE post_categories (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            post_fid INTEGER NOT NULL REFERENCES posts (fid) ON DELETE CASCADE,
            category TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('keyword', 'head', 'analyst')),
            score REAL,
            model TEXT,
            analyst TEXT,
            run_fid INTEGER REFERENCES runs (fid),
            created_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
        );
        CREATE INDEX idx_post_categories_post ON post_categories (post_fid, source);
        CREATE INDEX idx_post_categories_category ON post_categories (category, source);
        """
    )
    for table, description in (
        ("text_categories", "The team's post categories and their keyword rules"),
        ("post_text_features", "Text features per post and feature model"),
        ("post_categories", "Post categories from keyword rules, heads and analysts"),
    ):
        ddl.register_attributes_table(conn, table, description)


def _v15_placement_verdicts(conn: sqlite3.Connection) -> None:
    """Analysts' verdicts on where image matching placed a post (right or wrong place) with the
    match evidence they judged, the geolocation confidence models refitted from them, and the
    image embeddings of reference imagery (retrieval indexes them beside geotagged photos)."""
    ddl = ddl_for(conn)
    ddl.execute_script(conn,
        """
        CREATE TABLE placement_verdicts (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            post_fid INTEGER NOT NULL REFERENCES posts (fid) ON DELETE CASCADE,
            media_fid INTEGER REFERENCES media (fid) ON DELETE SET NULL,
            ref_uid TEXT NOT NULL,
            matcher TEXT NOT NULL,
            verdict TEXT NOT NULL CHECK (verdict IN ('correct', 'wrong')),
            inliers INTEGER NOT NULL,
            inlier_ratio REAL NOT NULL,
            confidence REAL,
            analyst TEXT NOT NULL,
            verified_at DATETIME NOT NULL
        );
        CREATE INDEX idx_placement_verdicts_post ON placement_verdicts (post_fid, matcher);
        CREATE TABLE confidence_models (
            fid INTEGER PRIMARY KEY AUTOINCREMENT,
            matcher TEXT NOT NULL,
            version INTEGER NOT NULL,
            a REAL NOT NULL,
            b REAL NOT NULL,
            c REAL NOT NULL,
            verdicts INTEGER NOT NULL,
            correct INTEGER NOT NULL,
            ece_before REAL,
            ece_after REAL,
            reliability TEXT NOT NULL,
            accepted BOOLEAN NOT NULL,
            note TEXT,
            run_fid INTEGER REFERENCES runs (fid),
            created_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            CONSTRAINT uq_confidence_models_version UNIQUE (matcher, version)
        );
        CREATE TABLE reference_embeddings (
            ref_fid INTEGER NOT NULL REFERENCES "references" (fid) ON DELETE CASCADE,
            model TEXT NOT NULL,
            dim INTEGER NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (ref_fid, model)
        );
        """
    )
    ddl.register_attributes_table(conn, "placement_verdicts", "Analysts' verdicts on image-matching placements")
    ddl.register_attributes_table(conn, "confidence_models", "Geolocation confidence refitted from verdicts")
    ddl.register_attributes_table(conn, "reference_embeddings", "Image embeddings of reference imagery per model")
    if getattr(conn, "dialect", "sqlite") == "postgresql":
        conn.execute_script(
            "DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'mist_analyst') THEN "
            "GRANT INSERT, DELETE ON placement_verdicts TO mist_analyst; END IF; END $$;")


# MIST's bookkeeping tables that migrations before 17 registered in gpkg_contents.
_BOOKKEEPING_REGISTERED = ("media", "runs", "predictions", "embeddings", "matches", "reference_features", "leases",
                           "text_categories", "post_text_features", "post_categories", "live_cursors")


def _v17_unlist_bookkeeping(conn: sqlite3.Connection) -> None:
    # A GeoPackage lists only what a user opens as a layer (`dialect.LISTED_ATTRIBUTE_TABLES` and
    # the tables with geometry); the tables themselves are untouched. A team store has no
    # gpkg_contents: QGIS's postgres provider lists its tables with geometry only, by default.
    if getattr(conn, "dialect", "sqlite") == "postgresql":
        return
    unlisted = [t for t in _BOOKKEEPING_REGISTERED if t not in LISTED_ATTRIBUTE_TABLES]
    conn.execute(f"DELETE FROM gpkg_contents WHERE data_type = 'attributes' "
                 f"AND table_name IN ({', '.join('?' * len(unlisted))})", unlisted)


def _v18_analyst_categories(conn: sqlite3.Connection) -> None:
    # On a team store, analysts save post categories (the Verify dock's text mode): their rows
    # and the posts layer's category fields. Reading every table, the tables of migrations 8 to
    # 15 included, comes with the runner's grants after this migration. A GeoPackage has no roles.
    if getattr(conn, "dialect", "sqlite") != "postgresql":
        return
    conn.execute_script(
        "DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'mist_analyst') THEN "
        "GRANT INSERT, DELETE ON post_categories TO mist_analyst; "
        "GRANT UPDATE (text_categories, text_category_source, text_confidence) ON posts TO mist_analyst; "
        "END IF; END $$;")


MIGRATIONS: list[Migration] = [
    Migration(1, "posts, media, runs and the import report", _v1_core),
    Migration(2, "predictions, embeddings, matches, verifications, unlocated view", _v2_results),
    Migration(3, "indexes for the verification queue and agreement", _v3_verification_indexes),
    Migration(4, "reference imagery, feature cache, coarse locations, geolocation lines", _v4_geolocation),
    Migration(5, "the host and process of each run", _v5_run_owner),
    Migration(6, "next-post leases; on PostgreSQL, change notifications and the analyst and lead roles",
              _v6_team),
    Migration(7, "post verdicts under the one verdict rule; post photos from the cache", _v7_verdicts_and_photos),
    Migration(8, "post text features, categories and the team's category list", _v8_post_text),
    Migration(11, "live sources' cursors and alerts", _v11_live),
    Migration(13, "head versions of a learning watch, live source states, photo retries", _v13_live_learning),
    Migration(15, "analysts' verdicts on placements; refitted geolocation confidence; reference embeddings",
              _v15_placement_verdicts),
    Migration(17, "GeoPackage contents list only the tables users open as layers", _v17_unlist_bookkeeping),
    Migration(18, "on a team store, analysts save post categories and both roles read every table",
              _v18_analyst_categories),
]

LATEST_VERSION = MIGRATIONS[-1].version
