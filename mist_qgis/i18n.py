"""Translation: every user-facing string goes through `tr()`; the plugin installs the
translator for the user's QGIS locale."""

from __future__ import annotations

from qgis.PyQt.QtCore import QCoreApplication, QTranslator

from .paths import i18n_dir

# pylupdate5 files free `tr(...)` and `QT_TR_NOOP(...)` calls under this context.
CONTEXT = "@default"


def tr(message: str) -> str:
    return QCoreApplication.translate(CONTEXT, message)


def QT_TR_NOOP(message: str) -> str:  # noqa: N802 (the name pylupdate5 looks for)
    """Marks a string for translation where it is defined; `tr()` translates it where shown."""
    return message


def install_translator(locale: str) -> QTranslator | None:
    """Load `i18n/mist_qgis_<lang>.qm` for a locale such as "zh_CN" or "de"; None if absent."""
    for code in (locale, locale.split("_")[0]):
        qm = i18n_dir() / f"mist_qgis_{code}.qm"
        if qm.exists():
            translator = QTranslator()
            if translator.load(str(qm)):
                QCoreApplication.installTranslator(translator)
                return translator
    return None
