"""Screening through Processing and the CLI: classify, train a head, suggest, predict, list models."""

from __future__ import annotations

import json

import processing
import pytest
from qgis.core import QgsProcessingException

from mist_qgis.core.models import runtime
from mist_qgis.core.store import models_sql, open_store
from tests.helpers.cli import run_cli as _cli
from tests.helpers.modelkit import (
    PHOTO_NAMES,
    add_photo_posts,
    colour_card,
    make_colour_model,
    photo,
    save_photo,
    screening_store,
    verify_by_colour,
)


@pytest.fixture
def screened_store(tmp_path):
    return screening_store(tmp_path, [("junk", b"<html>not a photo</html>")])


def _verify_by_colour(store_path):
    """Verdicts on 16 classified photos: flood when the colour embedding is bluer than red."""
    with open_store(store_path) as store:
        verify_by_colour(store, "colour@1")


def test_classify_train_suggest_through_processing(screened_store, tmp_path):
    store_path, model = screened_store
    res = processing.run("mist:classifymedia", {"STORE": str(store_path), "MODEL": str(model), "BATCH_SIZE": 8})
    assert res["CLASSIFIED"] == 24 and res["SKIPPED"] == 1
    assert json.loads(res["RESULT"])["model"] == "colour@1"
    _verify_by_colour(store_path)
    head_path = tmp_path / "head.onnx"
    res = processing.run("mist:trainhead", {"STORE": str(store_path), "BACKBONE": str(model), "FEATURES": "image",
                                            "LABELS": "verdict", "KIND": "logreg", "MODEL_ID": "team-head",
                                            "OUTPUT": str(head_path)})
    metrics = json.loads(res["METRICS"])
    assert head_path.is_file() and res["MODEL"].startswith("team-head@")
    assert metrics["n_examples"] == 16 and "flood" in metrics["per_label"] and metrics["threshold"] is not None
    assert metrics["repeats"] == 5 and set(metrics["spread"]["f1"]) == {"mean", "sd", "min", "max"}
    # 16 crops of 6 photos: the colour rule separates them in cross-validation, but crops of one photo
    # are near copies, so shuffled labels do about as well; the head says so and screening refuses it
    assert res["USABLE"] == 0 and res["SKILL"].startswith("no skill beyond chance: cross-validated AUC")
    assert metrics["skill"]["usable"] is False
    with pytest.raises(QgsProcessingException, match="no skill beyond chance"):
        processing.run("mist:classifymedia", {"STORE": str(store_path), "MODEL": str(head_path)})
    res = processing.run("mist:classifymedia", {"STORE": str(store_path), "MODEL": str(head_path),
                                                "ALLOW_NO_SKILL": True})
    assert res["CLASSIFIED"] == 24 and "without skill" in json.loads(res["RESULT"])["warnings"][0]
    res = processing.run("mist:nexttoverify", {"STORE": str(store_path), "MODEL": str(head_path), "COUNT": 4,
                                               "RANDOM_SHARE": 0.5})
    picks = json.loads(res["SUGGESTIONS"])
    assert len(picks) == 4 and {p["reason"] for p in picks} == {"uncertain", "random"}


def test_training_without_verifications_is_a_clear_error(screened_store, tmp_path):
    store_path, model = screened_store
    with pytest.raises(QgsProcessingException, match="no verified photo"):
        processing.run("mist:trainhead", {"STORE": str(store_path), "BACKBONE": str(model),
                                          "OUTPUT": str(tmp_path / "h.onnx")})


def test_unknown_model_is_a_clear_error(screened_store):
    store_path, _ = screened_store
    with pytest.raises(QgsProcessingException, match="no model 'nope'"):
        processing.run("mist:classifymedia", {"STORE": str(store_path), "MODEL": "nope"})


def test_list_models_from_a_user_folder(tmp_path):
    from mist_qgis.model_folders import add_user_folder, remove_user_folder

    folder = tmp_path / "team-models"
    make_colour_model(folder / "flood.onnx", colour_card(id="flood-team", version="3"))
    (folder / "broken.onnx").write_bytes(b"nope")
    add_user_folder(folder)
    try:
        listing = json.loads(processing.run("mist:listmodels", {})["MODELS"])
    finally:
        remove_user_folder(folder)
    tags = {m["tag"]: m for m in listing["models"]}
    assert tags["flood-team@3"]["origin"] == "user" and tags["flood-team@3"]["labels"] == 3
    assert any(p["path"].endswith("broken.onnx") for p in listing["problems"])
    assert "CPUExecutionProvider" in listing["providers"]["available"]


def test_cli_classify_and_predict(screened_store, tmp_path):
    store_path, model = screened_store
    out = _cli("classify", "--store", str(store_path), "--model", str(model), "--batch-size", "16")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["classified"] == 24
    image = save_photo(photo("rocket"), tmp_path / "rocket.jpg")
    junk = tmp_path / "junk.jpg"
    junk.write_text("not a photo")
    out = _cli("predict", "--model", str(model), "--top-k", "2", str(image), str(junk))
    assert out.returncode == 0, out.stderr
    preds = json.loads(out.stdout)["predictions"]
    assert preds[0]["label"] in ("red", "green", "blue") and len(preds[0]["top"]) == 2
    assert "error" in preds[1]  # a file that is there but is no photo: its own entry, the others still predicted
    out = _cli("predict", "--model", str(model), str(image), str(tmp_path / "missing.jpg"))
    assert out.returncode == 2 and out.stderr == f"mist: error: image {tmp_path / 'missing.jpg'} does not exist\n"
    out = _cli("predict", "--model", str(tmp_path / "absent.onnx"), str(image))
    assert out.returncode == 2 and "does not exist" in out.stderr and "Traceback" not in out.stderr


def test_cli_train_head_says_plainly_when_a_head_has_no_skill(screened_store, tmp_path):
    store_path, model = screened_store
    processing.run("mist:classifymedia", {"STORE": str(store_path), "MODEL": str(model)})
    _verify_by_colour(store_path)
    head = tmp_path / "head.onnx"
    out = _cli("train-head", "--store", str(store_path), "--backbone", str(model), "--out", str(head))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["usable"] == 0 and result["skill"].startswith("no skill beyond chance")
    assert "screening refuses it unless allowed" in result["skill"]
    out = _cli("classify", "--store", str(store_path), "--model", str(head))
    assert out.returncode == 2 and "no skill beyond chance" in out.stderr and "Traceback" not in out.stderr
    out = _cli("classify", "--store", str(store_path), "--model", str(head), "--allow-no-skill")
    assert out.returncode == 0, out.stderr
    assert "without skill" in json.loads(out.stdout)["result"]["warnings"][0]


def test_image_text_model_through_processing_and_cli(tmp_path):
    """The multimodal crisis classifier: store screening pairs photos with post texts, predict
    takes one text for all images, and a model without its tokenizer is a Processing error."""
    import shutil

    from tests.helpers.multimodal_kit import make_crisis_model, make_tokenizer

    runtime.clear_sessions()
    model, _, _ = make_crisis_model(tmp_path / "models" / "crisis.onnx", make_tokenizer(tmp_path / "tok"))
    store_path = tmp_path / "mm.gpkg"
    with open_store(store_path) as store:
        add_photo_posts(store, [(n, photo(n)) for n in PHOTO_NAMES[:3]],
                        texts=["flood water in the street", "", "rescue boats in the flooded village"])
    res = processing.run("mist:classifymedia", {"STORE": str(store_path), "MODEL": str(model), "BATCH_SIZE": 2})
    assert res["CLASSIFIED"] == 3 and res["SKIPPED"] == 0 and json.loads(res["RESULT"])["model"] == "crisis@1"
    image = save_photo(photo("rocket"), tmp_path / "rocket.jpg")
    out = _cli("predict", "--model", str(model), "--top-k", "3", "--text", "flood water in the street", str(image))
    assert out.returncode == 0, out.stderr
    via_cli = json.loads(out.stdout)["predictions"][0]
    same = json.loads(processing.run("mist:predictimages", {"MODEL": str(model), "IMAGES": str(image), "TOP_K": 3,
                                                            "TEXT": "flood water in the street"})["PREDICTIONS"])[0]
    other = json.loads(processing.run("mist:predictimages", {"MODEL": str(model), "IMAGES": str(image), "TOP_K": 3,
                                                             "TEXT": "sunny day at the beach"})["PREDICTIONS"])[0]
    assert [t["label"] for t in via_cli["top"]] == [t["label"] for t in same["top"]]
    assert max(abs(a["score"] - b["score"]) for a, b in zip(via_cli["top"], same["top"], strict=True)) < 1e-6
    scores = {t["label"]: t["score"] for t in other["top"]}
    assert max(abs(t["score"] - scores[t["label"]]) for t in same["top"]) > 1e-2
    shutil.rmtree(model.with_suffix(".tokenizer"))
    with pytest.raises(QgsProcessingException, match=r"crisis\.tokenizer.*does not exist"):
        processing.run("mist:classifymedia", {"STORE": str(store_path), "MODEL": str(model)})


def test_classify_runs_on_the_task_runner_and_a_cancel_leaves_the_rest_for_later(tmp_path):
    """The dock's way: mist:classifymedia on QGIS's Processing task runner, then cancelled."""
    from tests.helpers.tasks import AlgorithmRun

    runtime.clear_sessions()
    model = make_colour_model(tmp_path / "colour.onnx")
    store_path = tmp_path / "s.gpkg"
    with open_store(store_path) as store:
        add_photo_posts(store, [(f"{n}{i}", photo(n)) for i in range(3) for n in PHOTO_NAMES])
    parameters = {"STORE": str(store_path), "MODEL": str(model), "BATCH_SIZE": 4}
    run = AlgorithmRun("mist:classifymedia", parameters).start().wait()
    result = json.loads(run.results["RESULT"])
    assert run.ok and result["classified"] == 18 and result["status"] == "done"
    assert run.progress and max(run.progress) == 100.0

    with open_store(store_path) as store:  # new photos, then a run cancelled before it starts
        add_photo_posts(store, [(n, photo(n)) for n in PHOTO_NAMES], platform="later")
    cancelled = AlgorithmRun("mist:classifymedia", {**parameters, "BATCH_SIZE": 2})
    cancelled.feedback.cancel()
    cancelled.start().wait()
    with open_store(store_path) as store:
        assert models_sql.count_photos_without(store, "predictions", "colour@1") == 6  # resumable later
        assert store.runs("classify")[-1].status == "cancelled"
