"""A team store named by a PostgreSQL connection saved in QGIS, its credentials in QGIS's
authentication manager: the store opens, layers use `authcfg`, and no password reaches the
store, a layer source, the project file or Processing's results."""

from __future__ import annotations

import processing
from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsProject, QgsSettings

from mist_qgis.core.posts import PostRecord
from mist_qgis.core.store import open_store
from mist_qgis.pg_connections import open_store_target, saved_connections
from mist_qgis.qgis_ops.layers import posts_layer, style_store_posts_by_category
from tests.helpers.pgcluster import PORT


def test_saved_connection_with_authcfg_opens_the_store_and_keeps_the_password_out(pg_cluster, pg_store_url, tmp_path):
    open_store(pg_store_url).close()  # the store and its roles
    secret = "auth-db-only-5523"
    pg_cluster.psql(f"CREATE ROLE qlead LOGIN PASSWORD '{secret}' IN ROLE mist_lead")
    schema = pg_store_url.split("search_path%3D")[1].split(",")[0]
    pg_cluster.psql(f"ALTER ROLE qlead SET search_path = {schema}, public")
    manager = QgsApplication.authManager()
    assert manager.setMasterPassword("mist-test-master", True)
    config = QgsAuthMethodConfig("Basic")
    config.setName("mist team")
    config.setConfig("username", "qlead")
    config.setConfig("password", secret)
    assert manager.storeAuthenticationConfig(config)
    settings = QgsSettings()
    for key, value in {"host": str(pg_cluster.socket_dir), "port": str(PORT), "database": "mist",
                       "authcfg": config.id()}.items():
        settings.setValue(f"PostgreSQL/connections/flood-team/{key}", value)
    assert "flood-team" in saved_connections()

    with open_store_target("qgis:flood-team") as store:
        with store.batch() as conn:
            store.add_posts(conn, [PostRecord("p1", "weibo", 113.6, 34.7)])
        assert "qlead" in store.target and secret not in store.target
    layer = posts_layer("qgis:flood-team")
    assert layer.isValid() and layer.featureCount() == 1
    assert f"authcfg={config.id()}" in layer.source() and secret not in layer.source()
    project = QgsProject.instance()
    project.addMapLayer(layer)
    assert style_store_posts_by_category("qgis:flood-team", project) == [layer]  # the categories read from the store
    assert layer.renderer().type() == "categorizedSymbol"
    path = tmp_path / "team.qgs"
    assert project.write(str(path))
    project.removeAllMapLayers()
    assert secret not in path.read_text()
    result = processing.run("mist:storeinfo", {"STORE": "qgis:flood-team"})
    assert result["POSTS"] == 1 and secret not in str(result)
