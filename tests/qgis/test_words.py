"""Results in the Processing log are words with units, never raw JSON."""

from __future__ import annotations

from mist_qgis.processing_provider.words import lines


def test_summaries_read_as_words_with_units():
    text = lines({"flooded_area_m2": 319025.4, "max_bytes": 50_000_000, "share_within_100": 0.375,
                  "counts": {"posts": 1200, "photos_ok": 11}, "mask_note": None, "offline": True,
                  "mean_error_m": 12.3456})
    assert text == ["Flooded area: 319,025 m²", "Max: 50.0 MB", "Share within 100: 38 %", "Counts:",
                    "  Posts: 1,200", "  Photos ok: 11", "Mask note: –", "Offline: yes", "Mean error: 12.35 m"]
    assert not any(line.lstrip().startswith(("{", "[", '"')) for line in text)


def test_a_cancelled_algorithm_says_cancelled(tmp_path):
    """Processing only reports a cancelled task as failed; MIST says what happened in words."""
    import processing
    from qgis.core import QgsProcessingFeedback

    from mist_qgis.core.store import open_store

    class Recording(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.errors = []

        def reportError(self, error, fatalError=False):  # noqa: N802, N803
            self.errors.append(error)

    with open_store(tmp_path / "s.gpkg"):
        pass
    feedback = Recording()
    feedback.cancel()
    processing.run("mist:fetchmedia", {"STORE": str(tmp_path / "s.gpkg")}, feedback=feedback)
    assert any(e.startswith("Cancelled.") for e in feedback.errors), feedback.errors


def test_a_repeated_geolocation_issue_is_said_once():
    from mist_qgis.processing_provider.geoloc_algorithms import grouped_issues

    issues = [{"source": "reference r1", "reason": "panorama or strip (4.0:1)"} for _ in range(5)]
    issues.append({"source": "post 9", "reason": "no reference within 100 m"})
    assert grouped_issues(issues) == ["reference r1: panorama or strip (4.0:1) (noted 5 times in this run)",
                                      "post 9: no reference within 100 m"]
