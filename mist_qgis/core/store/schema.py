"""The store's schema as an ordered list of migrations.

Version N of a store is the result of applying migrations 1..N in order. A store is only ever
moved forward; each migration runs inside one transaction together with its version bump, so a
crash mid-migration leaves the previous version intact.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from . import gpkg


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
    gpkg.create_core_tables(conn)
    gpkg.execute_script(conn,
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
    gpkg.register_features_table(conn, "posts", "POINT", description="Social-media posts")
    for table, description in (
        ("media", "Photos and videos of posts"),
        ("runs", "What ran on this store"),
        ("issues", "Records skipped or flagged by a run, with the reason"),
    ):
        gpkg.register_attributes_table(conn, table, description)


def _v2_results(conn: sqlite3.Connection) -> None:
    gpkg.execute_script(conn,
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
        gpkg.register_attributes_table(conn, table, description)


def _v3_verification_indexes(conn: sqlite3.Connection) -> None:
    """Indexes the verification queue pages on: latest verdict per photo, screening score order
    per model and label, and each analyst's verdicts (agreement)."""
    gpkg.execute_script(conn,
        """
        CREATE INDEX IF NOT EXISTS idx_verifications_media ON verifications (media_fid);
        CREATE INDEX IF NOT EXISTS idx_verifications_analyst ON verifications (analyst);
        CREATE INDEX IF NOT EXISTS idx_predictions_model_label_score ON predictions (model, label, score);
        """
    )


def _v4_geolocation(conn: sqlite3.Connection) -> None:
    """Reference imagery (point + heading + image), its cached features, text-derived coarse
    locations, and one line per geolocated post (old -> new location)."""
    gpkg.execute_script(conn,
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
    gpkg.register_features_table(conn, "references", "POINT", description="Reference images with heading")
    gpkg.register_features_table(conn, "coarse_locations", "POINT", description="Coarse locations from post text")
    gpkg.register_features_table(conn, "geolocations", "LINESTRING",
                                 description="Photo geolocation: old -> new location per post")
    gpkg.register_attributes_table(conn, "reference_features", "Cached reference image features per matcher")


def _v5_run_owner(conn: sqlite3.Connection) -> None:
    # which process runs a run: a run whose process has ended without finishing it was interrupted
    conn.execute("ALTER TABLE runs ADD COLUMN host TEXT")
    conn.execute("ALTER TABLE runs ADD COLUMN pid INTEGER")


def _v7_verdicts_and_photos(conn: sqlite3.Connection) -> None:
    # Posts mirror their photos' current verdicts under one rule (the latest recorded verdict
    # covering each photo); mirrors written under the earlier rule are recomputed once. The
    # `photo` field, empty before, points at each post's cached photo.
    from .photos_sql import set_post_photos
    from .verify_sql import refresh_mirrors

    refresh_mirrors(conn)
    set_post_photos(conn)


MIGRATIONS: list[Migration] = [
    Migration(1, "posts, media, runs and the import report", _v1_core),
    Migration(2, "predictions, embeddings, matches, verifications, unlocated view", _v2_results),
    Migration(3, "indexes for the verification queue and agreement", _v3_verification_indexes),
    Migration(4, "reference imagery, feature cache, coarse locations, geolocation lines", _v4_geolocation),
    Migration(5, "the host and process of each run", _v5_run_owner),
    Migration(7, "post verdicts under the one verdict rule; post photos from the cache", _v7_verdicts_and_photos),
]

LATEST_VERSION = MIGRATIONS[-1].version
