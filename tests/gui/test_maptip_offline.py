"""The posts map tip and attribute form show the local cached photo (the tip its thumbnail) and
never fetch a URL from post data: hovering posts in a real map canvas and opening their form
makes no connection to a server that the posts' media URLs point at."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from qgis.core import QgsCoordinateReferenceSystem, QgsPointXY, QgsProject, QgsRectangle
from qgis.gui import QgsAttributeForm, QgsExternalResourceWidget, QgsGui, QgsMapCanvas, QgsMapTip
from qgis.PyQt.QtCore import QPoint

from mist_qgis.core.store import open_store
from mist_qgis.qgis_ops.layers import posts_layer
from tests.helpers.verify_store import build_store, jpeg_bytes, sample_photo


class _CountingServer(ThreadingHTTPServer):
    """Counts every accepted connection; answers any GET with a real JPEG."""

    daemon_threads = True

    def __init__(self) -> None:
        payload = jpeg_bytes(sample_photo(0, 64))

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.connections = 0
        self.paths: list[str] = []

    def get_request(self):
        request = super().get_request()
        self.connections += 1
        return request


@pytest.fixture
def server():
    srv = _CountingServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def hostile_store(store_path, server):
    """Four posts whose media URLs point at the server: two with a cached photo, one whose photo
    was never fetched, one whose `photo` field itself is a URL (a column mapped from a CSV)."""
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with open_store(store_path) as store:
        data = build_store(store, n=4)
        with store.batch() as conn:
            for i, post in enumerate(data.post_fids):
                conn.execute("UPDATE posts SET media_url = ?, url = ? WHERE fid = ?",
                             (f"{base}/media/{i}.jpg", f"{base}/post/{i}", post))
                conn.execute("UPDATE media SET url = ? WHERE post_fid = ?", (f"{base}/media/{i}.jpg", post))
            conn.execute("UPDATE media SET status = 'pending', cache_path = NULL WHERE fid = ?", (data.media_fids[2],))
            conn.execute("UPDATE posts SET photo = NULL WHERE fid = ?", (data.post_fids[2],))
            conn.execute("UPDATE posts SET photo = ? WHERE fid = ?", (f"{base}/photo/3.jpg", data.post_fids[3]))
        photos = {r[0]: r[1] for r in store.query("SELECT fid, photo FROM posts")}
    return data, photos, base


def _tip_html(canvas) -> str:
    from qgis.PyQt.QtWebKitWidgets import QWebView

    views = canvas.findChildren(QWebView)
    return "".join(v.page().mainFrame().toHtml() for v in views)


def test_hover_and_form_show_the_cached_photo_and_connect_nowhere(qtbot, store_path, server, hostile_store):
    data, photos, base = hostile_store
    with open_store(store_path) as store:
        media_dir = store.media_dir  # beside the GeoPackage; a team store's cache on this computer
    assert photos[data.post_fids[0]] == f"{media_dir.as_posix()}/{data.sha[data.media_fids[0]][:2]}/" \
        f"{data.sha[data.media_fids[0]]}.jpg"
    QgsGui.editorWidgetRegistry().initEditors()  # as the QGIS application does at start
    layer = posts_layer(store_path)
    QgsProject.instance().addMapLayer(layer)
    canvas = QgsMapCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(600, 400)
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    canvas.setLayers([layer])
    canvas.setExtent(QgsRectangle(113.55, 34.65, 113.70, 34.75))
    canvas.show()
    canvas.refresh()
    qtbot.wait(300)
    tip = QgsMapTip()
    # the layer's feature of each post: a `postgres` layer numbers its features itself
    feature_of = {f["fid"]: f for f in layer.getFeatures()}
    try:
        for post in data.post_fids:
            feature = feature_of[post]
            point = QgsPointXY(feature.geometry().asPoint())
            pixel = canvas.getCoordinateTransform().transform(point)
            tip.showMapTip(layer, point, QPoint(int(pixel.x()), int(pixel.y())), canvas)
            if post in data.post_fids[:2]:
                thumb = f"thumbs/{data.sha[data.media_fids[data.post_fids.index(post)]]}.jpg"
                qtbot.waitUntil(lambda thumb=thumb: thumb in _tip_html(canvas), timeout=20000)
            qtbot.wait(800)  # time for any request the tip might make
            assert base not in _tip_html(canvas)
            tip.clear(canvas)
        for post in data.post_fids:
            form = QgsAttributeForm(layer, feature_of[post])
            qtbot.addWidget(form)
            form.show()
            qtbot.wait(300)
            viewers = form.findChildren(QgsExternalResourceWidget)
            assert len(viewers) == 1
            if post in data.post_fids[:2]:
                assert viewers[0].documentPath() == photos[post]
            form.close()
        qtbot.wait(500)
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert server.connections == 0
