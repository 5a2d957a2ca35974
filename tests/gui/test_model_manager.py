"""The model manager dialog, offscreen."""

from __future__ import annotations

import pytest

from mist_qgis.core.models import runtime
from mist_qgis.core.models.registry import ModelPackError, ModelRegistry, make_pack
from mist_qgis.gui.model_manager import COLUMNS, ModelManagerDialog
from tests.helpers.modelkit import colour_card, make_colour_model


def test_lists_models_imports_a_pack_and_shows_the_real_provider(qtbot, tmp_path):
    runtime.clear_sessions()
    user, target = tmp_path / "user", tmp_path / "profile-models"
    make_colour_model(user / "colour.onnx")
    (user / "broken.onnx").write_bytes(b"junk")
    dialog = ModelManagerDialog(lambda: ModelRegistry([("user", user), ("profile", target)]), target)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 0).text() == "colour@1"
    assert dialog.table.item(0, COLUMNS.index("Labels")).text().startswith("3: red, green, blue")
    assert "broken.onnx" in dialog.problems_label.text()
    assert "CPU" in dialog.providers_label.text()

    pack_src = make_colour_model(tmp_path / "src" / "flood.onnx", colour_card(id="flood", version="2"))
    pack = make_pack([pack_src], tmp_path / "flood-pack.zip", "flood pack")
    imported = dialog.import_pack_from(pack)
    assert [e.card.tag for e in imported] == ["flood@2"]
    assert {dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())} == {"colour@1", "flood@2"}

    tampered = tmp_path / "tampered"
    make_pack([pack_src], tampered, "tampered")
    with open(tampered / "flood.onnx", "ab") as fh:
        fh.write(b"x")
    with pytest.raises(ModelPackError, match="sha256"):
        dialog.import_pack_from(tampered)

    dialog.table.selectRow(0)
    provider = dialog.check_selected_provider()
    assert provider in ("CPU", "CUDA")
    assert dialog.table.item(0, COLUMNS.index("Provider")).text() == provider


def test_a_chosen_pack_imports_in_the_background_and_a_replace_is_asked(qtbot, tmp_path, monkeypatch):
    from qgis.PyQt.QtWidgets import QMessageBox

    said = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a: said.append(("info", a[2])))
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: said.append(("warning", a[2])))
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a: said.append(("question", a[2])) or QMessageBox.StandardButton.Yes)
    target = tmp_path / "profile-models"
    dialog = ModelManagerDialog(lambda: ModelRegistry([("profile", target)]), target)
    qtbot.addWidget(dialog)
    pack_src = make_colour_model(tmp_path / "src" / "flood.onnx", colour_card(id="flood", version="2"))
    pack = make_pack([pack_src], tmp_path / "flood-pack.zip", "flood pack")

    dialog._import_interactive(str(pack))  # what the file dialog's choice starts
    assert not dialog.import_zip_button.isEnabled()  # one import at a time, the dialog stays usable
    qtbot.waitUntil(lambda: bool(said), timeout=60_000)
    assert said == [("info", "Imported: flood@2")] and dialog.import_zip_button.isEnabled()
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 0).text() == "flood@2"

    said.clear()
    dialog._import_interactive(str(pack))  # again: the folder exists, the user is asked, then it is replaced
    qtbot.waitUntil(lambda: len(said) == 2, timeout=60_000)
    assert said[0][0] == "question" and "already exists" in said[0][1]
    assert said[1] == ("info", "Imported: flood@2")

    said.clear()
    (tmp_path / "junk.zip").write_bytes(b"PK\x03\x04 not really")
    dialog._import_interactive(str(tmp_path / "junk.zip"))
    qtbot.waitUntil(lambda: bool(said), timeout=60_000)
    assert said[0][0] == "warning" and "not a folder or a zip file" in said[0][1]


def test_a_carded_text_encoder_is_listed_with_its_languages(qtbot, tmp_path):
    from mist_qgis.core.models.text_card import card_text_encoder
    from tests.helpers.text_encoder import tiny_export

    source, _ = tiny_export(tmp_path / "export")
    card_text_encoder(source, tmp_path / "user", "tiny-multilingual", ["en", "zh"])
    dialog = ModelManagerDialog(lambda: ModelRegistry([("user", tmp_path / "user")]), tmp_path / "profile")
    qtbot.addWidget(dialog)
    assert dialog.table.item(0, 0).text() == "tiny-multilingual@1"
    assert dialog.table.item(0, 1).text() == "text-encoder"
    assert dialog.table.item(0, COLUMNS.index("Labels")).text() == "text encoder: en, zh"
