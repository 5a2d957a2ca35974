"""The model parameter is a choice of the models MIST knows, with "Add a model…" beside it, and
a trained head lands in that choice under its name at once."""

from __future__ import annotations

import processing
import pytest
from qgis.core import QgsSettings

from mist_qgis.core.store import open_store
from mist_qgis.gui.active_store import set_active_store
from mist_qgis.gui.algorithm_dialog import create_dialog
from mist_qgis.gui.model_param import ModelChoiceWrapper
from mist_qgis.model_folders import SETTING, user_folders
from tests.helpers.modelkit import screening_store, verify_by_colour
from tests.helpers.stub_iface import StubIface


@pytest.fixture
def screened(monkeypatch, tmp_path):
    import processing.tools.general as general

    monkeypatch.setattr(general, "iface", StubIface())
    QgsSettings().remove(SETTING)
    path, model = screening_store(tmp_path)
    set_active_store(path)
    yield path, model
    QgsSettings().remove(SETTING)


def _choices(dialog) -> list[str]:
    wrapper = dialog.mainWidget().wrappers["MODEL"]
    assert isinstance(wrapper, ModelChoiceWrapper)
    return [wrapper.combo.itemData(i) for i in range(wrapper.combo.count())]


def test_models_are_a_choice_and_a_trained_head_joins_it(screened, tmp_path):
    store_path, model = screened
    dialog = create_dialog("mist:classifymedia")
    assert "colour@1" not in _choices(dialog)
    # "Add a model…": the file's folder becomes a model folder, the model is picked
    wrapper = dialog.mainWidget().wrappers["MODEL"]
    wrapper.add_model_file(str(model))
    assert str(model.parent) in user_folders()
    assert "colour@1" in _choices(dialog) and wrapper.value() == "colour@1"
    assert dialog.createProcessingParameters()["MODEL"] == "colour@1"
    dialog.close()

    res = processing.run("mist:classifymedia", {"STORE": str(store_path), "MODEL": "colour"})
    with open_store(store_path) as store:
        verify_by_colour(store, "colour@1", n=24)
    assert res["CLASSIFIED"] == 24
    # no output file asked for (the dialog's default): the head goes into MIST's models under its name
    train = create_dialog("mist:trainhead")
    assert not train.createProcessingParameters().get("OUTPUT")
    train.close()
    res = processing.run("mist:trainhead", {"STORE": str(store_path), "BACKBONE": "colour", "MODEL_ID": "flood-head"})
    assert res["MODEL"].startswith("flood-head@")
    dialog = create_dialog("mist:classifymedia")
    assert res["MODEL"] in _choices(dialog)
    dialog.close()
    assert processing.run("mist:classifymedia", {"STORE": str(store_path), "MODEL": "flood-head"})["CLASSIFIED"] == 24
    # the Quality tab starts at the head's calibrated threshold, not at 0.50
    from mist_qgis.core.models.runtime import read_card
    from mist_qgis.gui.quality_panel import QualityPanel
    from mist_qgis.model_folders import registry

    threshold = read_card(registry().resolve("flood-head").path).thresholds["flood"]
    panel = QualityPanel()
    with open_store(store_path, read_only=True) as store:
        panel.set_store(store)
        assert panel.model_combo.currentText() == res["MODEL"]
        assert panel.threshold == pytest.approx(round(threshold, 2)) and round(threshold, 2) != 0.5
        panel.set_store(None)
