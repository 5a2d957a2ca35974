"""The model registry and model packs: lookup by id/tag/path, sha256 checks, zip-slip safety."""

from __future__ import annotations

import json
import os
import zipfile

import pytest

from mist_qgis.core.errors import Cancelled
from mist_qgis.core.models.registry import (
    PACK_MANIFEST,
    ModelNotFoundError,
    ModelPackError,
    ModelRegistry,
    import_pack,
    make_pack,
    sha256_file,
)
from tests.helpers.modelkit import colour_card, make_colour_model


def test_lists_models_from_folders_in_order_and_reports_broken_files(tmp_path):
    user, build = tmp_path / "user", tmp_path / "build"
    make_colour_model(user / "a.onnx", colour_card(id="flood", version="2"))
    make_colour_model(build / "b.onnx", colour_card(id="flood", version="10"))
    make_colour_model(build / "c.onnx", colour_card(id="flood", version="2", licence="other"))  # shadowed
    make_colour_model(build / "sub" / "d.onnx", colour_card(id="colour"))
    (build / "broken.onnx").write_bytes(b"garbage")
    reg = ModelRegistry([("user", user), ("build", build), ("user", tmp_path / "absent")])
    tags = {(e.card.tag, e.origin) for e in reg.entries()}
    assert tags == {("flood@2", "user"), ("flood@10", "build"), ("colour@1", "build")}
    assert [p.path.name for p in reg.problems] == ["broken.onnx"]
    assert reg.resolve("flood").card.version == "10"  # highest version, numerically
    assert reg.resolve("flood@2").origin == "user"
    assert reg.resolve(str(build / "sub" / "d.onnx")).card.id == "colour"
    with pytest.raises(ModelNotFoundError, match="known: colour@1, flood@10, flood@2"):
        reg.resolve("nothing")
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        reg.resolve(str(tmp_path / "missing.onnx"))


def test_default_registry_includes_profile_and_build_folders(tmp_path):
    reg = ModelRegistry.default(profile_dir=tmp_path / "profile", user_folders=[tmp_path / "u"])
    origins = [o for o, _ in reg.folders]
    assert origins == ["user", "profile", "build"]
    assert str(reg.folders[1][1]).startswith(str(tmp_path / "profile"))
    assert reg.folders[2][1].parts[-2:] == ("models", "build")


@pytest.fixture
def pack_files(tmp_path):
    model = make_colour_model(tmp_path / "src" / "flood.onnx", colour_card(id="flood"))
    vocab = tmp_path / "src" / "tokenizer" / "vocab.txt"
    vocab.parent.mkdir(parents=True)
    vocab.write_text("a\nb\n")
    return [model, vocab], tmp_path / "src"


@pytest.mark.parametrize("as_zip", [True, False])
def test_pack_round_trip(tmp_path, pack_files, as_zip):
    files, base = pack_files
    pack = make_pack(files, tmp_path / ("team.zip" if as_zip else "team"), "Team pack", base=base)
    entries = import_pack(pack, tmp_path / "models")
    assert [e.card.tag for e in entries] == ["flood@1"]
    target = tmp_path / "models" / "Team-pack"
    assert (target / "flood.onnx").is_file() and (target / "tokenizer" / "vocab.txt").read_text() == "a\nb\n"
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".import-")]
    with pytest.raises(ModelPackError, match="already exists"):
        import_pack(pack, tmp_path / "models")
    assert import_pack(pack, tmp_path / "models", overwrite=True)
    assert ModelRegistry([("profile", tmp_path / "models")]).resolve("flood").path == (target / "flood.onnx")


@pytest.mark.parametrize("as_zip", [True, False])
def test_pack_import_reports_progress_and_a_cancel_leaves_nothing(tmp_path, pack_files, as_zip):
    files, base = pack_files
    big = base / "weights.bin"
    big.write_bytes(os.urandom(3 << 20))  # several 1 MiB chunks
    pack = make_pack([*files, big], tmp_path / ("team.zip" if as_zip else "team"), "team", base=base)
    seen = []
    import_pack(pack, tmp_path / "models", progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 100.0 and len(seen) >= 4
    polls = []

    def cancel_on_second_poll() -> bool:
        polls.append(1)
        return len(polls) >= 2

    with pytest.raises(Cancelled):
        import_pack(pack, tmp_path / "cancelled", is_cancelled=cancel_on_second_poll)
    assert list((tmp_path / "cancelled").iterdir()) == []


def test_sha256_mismatch_refuses_the_pack_and_leaves_nothing(tmp_path, pack_files):
    files, base = pack_files
    pack = make_pack(files, tmp_path / "team", "team", base=base)
    with open(pack / "flood.onnx", "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ModelPackError, match="flood.onnx: sha256 .* does not match"):
        import_pack(pack, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def _zip_with(tmp_path, names_and_data, manifest_files):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(PACK_MANIFEST, json.dumps({"name": "evil", "files": manifest_files}))
        for name, data in names_and_data:
            z.writestr(name, data)
    return path


def test_zip_slip_is_refused(tmp_path, pack_files):
    model = pack_files[0][0]
    data = model.read_bytes()
    good = {"path": "flood.onnx", "sha256": sha256_file(model)}
    for evil in ("../escape.txt", "/abs/escape.txt", "a/../../escape.txt"):
        pack = _zip_with(tmp_path, [("flood.onnx", data), (evil, b"x")], [good])
        with pytest.raises(ModelPackError, match="unsafe file name"):
            import_pack(pack, tmp_path / "models" / "inner")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "models" / "escape.txt").exists()
    pack = _zip_with(tmp_path, [("flood.onnx", data)], [good, {"path": "../x.onnx", "sha256": "0" * 64}])
    with pytest.raises(ModelPackError, match="unsafe file name"):
        import_pack(pack, tmp_path / "models")


def test_symlink_in_zip_is_refused(tmp_path, pack_files):
    model = pack_files[0][0]
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(PACK_MANIFEST, json.dumps({"files": [{"path": "flood.onnx", "sha256": sha256_file(model)}]}))
        z.writestr("flood.onnx", model.read_bytes())
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777 << 16)
        z.writestr(info, "/etc/passwd")
    with pytest.raises(ModelPackError, match="symbolic link"):
        import_pack(path, tmp_path / "models")


def test_symlink_in_folder_pack_is_refused(tmp_path, pack_files):
    files, base = pack_files
    pack = make_pack(files[:1], tmp_path / "team", "team", base=base)
    os.remove(pack / "flood.onnx")
    os.symlink(files[0], pack / "flood.onnx")
    with pytest.raises(ModelPackError, match="is a link"):
        import_pack(pack, tmp_path / "models")


def test_pack_with_an_invalid_model_is_refused(tmp_path):
    bad = tmp_path / "src" / "bad.onnx"
    bad.parent.mkdir()
    bad.write_bytes(b"not onnx")
    pack = make_pack([bad], tmp_path / "p.zip", "p")
    with pytest.raises(ModelPackError, match="bad.onnx"):
        import_pack(pack, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_manifest_problems(tmp_path, pack_files):
    pack = _zip_with(tmp_path, [], [])
    with pytest.raises(ModelPackError, match="must list 'files'"):
        import_pack(pack, tmp_path / "models")
    pack = _zip_with(tmp_path, [], [{"path": "flood.onnx", "sha256": "0" * 64}])
    with pytest.raises(ModelPackError, match="listed in mist-pack.json but missing"):
        import_pack(pack, tmp_path / "models")
    (tmp_path / "plain.txt").write_text("x")
    with pytest.raises(ModelPackError, match="not a folder or a zip"):
        import_pack(tmp_path / "plain.txt", tmp_path / "models")


def test_cards_are_read_once_per_file_version_and_again_after_a_change(tmp_path, monkeypatch):
    """Listing models opens no session for a card already read; a model rewritten in place (same
    size, same second) or replaced, and a broken file mended, are read again."""
    from mist_qgis.core.models import runtime

    opened = []
    real_open = runtime.open_metadata_session
    monkeypatch.setattr(runtime, "open_metadata_session", lambda path: opened.append(path) or real_open(path))
    folder = tmp_path / "models"
    model = make_colour_model(folder / "a.onnx", colour_card(id="flood", version="1"))
    (folder / "broken.onnx").write_bytes(b"garbage")
    reg = ModelRegistry([("user", folder)])
    for _ in range(3):
        assert [e.card.tag for e in reg.refresh()] == ["flood@1"]
        assert [p.path.name for p in reg.problems] == ["broken.onnx"]
    assert len(opened) == 2  # each file once

    stat = model.stat()
    make_colour_model(model, colour_card(id="flood", version="2"))  # same length: "1" -> "2"
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert model.stat().st_size == stat.st_size
    make_colour_model(folder / "broken.onnx", colour_card(id="colour"))
    assert sorted(e.card.tag for e in reg.refresh()) == ["colour@1", "flood@2"] and reg.problems == []

    card = runtime.read_card(model)
    card.thresholds["flood"] = -1.0  # a caller's change stays its own
    assert runtime.read_card(model).thresholds.get("flood") != -1.0
