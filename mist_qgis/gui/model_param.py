"""The model parameter of MIST's Processing dialogs: a choice of the models MIST knows (the
registry: the profile's models, model packs, trained heads and added folders), with "Add a
model…" beside it. The value stays text (an id, id@version or an .onnx path), so scripts, the
modeler and the command line pass the same thing."""

from __future__ import annotations

from pathlib import Path

from processing.gui.wrappers import WidgetWrapper
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QSizePolicy, QToolButton, QWidget

from ..core.models.registry import ModelRegistry
from ..i18n import tr

WRAPPER = "mist_qgis.gui.model_param.ModelChoiceWrapper"


def model_choices(registry: ModelRegistry, tasks: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """(label, tag, tooltip) for every registered model of the given tasks (all when empty)."""
    out = []
    for entry in registry.entries():
        card = entry.card
        if tasks and card.task not in tasks and not ("text-encoder" in tasks and card.is_text_encoder):
            continue
        labels = ", ".join(card.labels) if len(card.labels) <= 5 else tr("{n} labels").format(n=len(card.labels))
        if card.is_text_encoder:  # what a text encoder offers is its languages
            labels = ", ".join(card.languages) or tr("languages unknown")
        label = f"{card.tag} · {card.task}" + (f" · {labels}" if labels else "")
        out.append((label, card.tag, str(entry.path)))
    return out


class ModelChoiceWrapper(WidgetWrapper):
    """An editable list of known models and an "Add a model…" button."""

    def createWidget(self, tasks=(), **kwargs):  # noqa: N802
        self.tasks = tuple(tasks)
        widget = QWidget()
        row = QHBoxLayout(widget)
        row.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # long model names must not push "Add a model…" out of a narrow dialog
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(16)
        self.combo.setToolTip(tr("A model MIST knows, or an id, id@version or .onnx path"))
        add = QToolButton()
        add.setText(tr("Add a model…"))
        add.setToolTip(tr("Pick an .onnx model file; its folder is remembered as a model folder"))
        add.clicked.connect(self._add_model)
        row.addWidget(self.combo, 1)
        row.addWidget(add)
        self.add_button = add
        self.fill()
        return widget

    def fill(self, select: str | None = None) -> None:
        from ..model_folders import registry

        current = select or self.combo.currentText()
        self.combo.clear()
        for label, tag, tooltip in model_choices(registry(), self.tasks):
            self.combo.addItem(label, tag)
            self.combo.setItemData(self.combo.count() - 1, tooltip, Qt.ItemDataRole.ToolTipRole)
        if not self.combo.count():
            self.combo.lineEdit().setPlaceholderText(tr("no model yet: Add a model… or MIST › Models…"))
        if current:
            self.setComboValue(current, self.combo)

    def _add_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.widget, tr("Add a model"), "", tr("ONNX model (*.onnx)"))
        if path:
            self.add_model_file(path)

    def add_model_file(self, path: str) -> None:
        """Remember the file's folder as a model folder and pick the model."""
        from ..core.models.card import ModelCardError
        from ..core.models.runtime import read_card
        from ..model_folders import add_user_folder

        try:
            tag = read_card(Path(path)).tag
        except (ModelCardError, ValueError, OSError):
            self.combo.setEditText(path)  # the algorithm explains what is wrong with it
            return
        add_user_folder(str(Path(path).parent))
        self.fill(select=tag)

    def setValue(self, value):  # noqa: N802
        if value:
            self.setComboValue(value, self.combo)

    def value(self):
        return self.comboValue(combobox=self.combo)
