"""The QGIS plugin: menu, toolbar, docks and the Processing provider, and the task references.

Everything created in `initGui` is undone in `unload`, so the plugin can be reloaded in one
QGIS session (Plugin Reloader) without leaving actions, docks or providers behind.
"""

from __future__ import annotations

from qgis.core import QgsApplication, QgsTask
from qgis.PyQt.QtCore import QLocale, Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QMessageBox

from .core import dependencies
from .i18n import install_translator, tr
from .log import attach_message_log, detach
from .paths import icon_path
from .processing_provider.provider import MistProvider

MENU = "&MIST"


class MistPlugin:
    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider: MistProvider | None = None
        self.actions: list[QAction] = []
        self.docks: list = []
        self.verify_dock = None
        self.posts_dock = None
        self.live_dock = None
        self.toolbar = None
        self.tasks: set[QgsTask] = set()
        self.browser_provider = None
        self._log_handler = None
        locale = QLocale().name()
        self.translator = install_translator(locale)

    # -- lifecycle -------------------------------------------------------------------------

    def initProcessing(self) -> None:  # noqa: N802 (QGIS calls it by this name)
        if self.provider is None:
            self.provider = MistProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802
        self._log_handler = attach_message_log()
        self.initProcessing()
        self.toolbar = self.iface.addToolBar(tr("MIST"))
        self.toolbar.setObjectName("MistToolbar")
        self._add_algorithm_action(tr("Create or upgrade store…"), "mist:createstore", icon="store.svg")
        self._add_algorithm_action(tr("Store summary…"), "mist:storeinfo", icon="summary.svg")
        self._add_action(tr("Check dependencies"), self.show_dependencies, toolbar=False)
        self._add_action(tr("Install dependencies…"), self.show_installer, toolbar=False)
        self._add_action(tr("Models…"), self.show_model_manager, toolbar=False)
        # Each step opens its Processing dialog, which runs the algorithm as a background task
        # with progress and cancel, exactly as the toolbox and the CLI do.
        for text, algorithm_id in (
            (tr("Fetch photos…"), "mist:fetchmedia"),
            (tr("Classify photos…"), "mist:classifymedia"),
            (tr("Screen post text…"), "mist:screentext"),
            (tr("Train screening head…"), "mist:trainhead"),
            (tr("Geolocate photos…"), "mist:geolocatephotos"),
            (tr("Post density…"), "mist:postdensity"),
            (tr("Semantic localization map…"), "mist:selo"),
            (tr("Inundation from verified depths…"), "mist:inundation"),
            (tr("Export verified points…"), "mist:exportverified"),
        ):
            self._add_algorithm_action(text, algorithm_id, toolbar=False)
        self._add_action(tr("Style posts by category"), self.style_posts_by_category, toolbar=False)
        self._add_verify_dock()
        self._add_posts_dock()
        self._add_live_dock()
        self._add_browser_node()

    def unload(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        self.tasks.clear()
        for action in self.actions:
            self.iface.removePluginMenu(MENU, action)
            self.iface.removeToolBarIcon(action)
            action.deleteLater()
        self.actions.clear()
        for dock in self.docks:
            if hasattr(dock, "cleanup"):
                dock.cleanup()
            self.iface.removeDockWidget(dock)
            dock.deleteLater()
        self.docks.clear()
        self.verify_dock = None
        self.posts_dock = None
        self.live_dock = None
        if self.toolbar is not None:
            self.toolbar.deleteLater()
            self.toolbar = None
        if self.browser_provider is not None:
            self.browser_provider.close()
            QgsApplication.dataItemProviderRegistry().removeProvider(self.browser_provider)  # deletes it
            self.browser_provider = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self._log_handler is not None:
            detach(self._log_handler)
            self._log_handler = None

    # -- helpers ---------------------------------------------------------------------------

    def _add_verify_dock(self) -> None:
        """The "MIST Verify" dock; it opens the last store when first shown."""
        from .gui.verify_dock import VerifyDock

        self.verify_dock = self._add_dock(VerifyDock(self.iface, self.iface.mainWindow()), tr("Verify photos"),
                                          "verify.svg")

    def _add_posts_dock(self) -> None:
        """The "MIST Posts" dock (import post collections)."""
        from .gui.posts_dock import PostsDock

        self.posts_dock = self._add_dock(PostsDock(self.start_task, self.iface.mainWindow()), tr("Import posts"),
                                         "import.svg")

    def _add_live_dock(self) -> None:
        """The "MIST Live" dock (watch sources; start, pause, stop)."""
        from .gui.live_dock import LiveDock

        self.live_dock = self._add_dock(LiveDock(self.iface, self.start_task, self.iface.mainWindow()), tr("Live"),
                                        "live.svg")

    def _add_browser_node(self) -> None:
        """The "MIST" node of the Browser: the active and recent stores with their user layers only."""
        from .gui.browser_items import MistItemProvider

        self.browser_provider = MistItemProvider()
        QgsApplication.dataItemProviderRegistry().addProvider(self.browser_provider)

    def _add_dock(self, dock, text: str, icon: str = "mist.svg"):
        """A dock on the right, hidden until its checkable toolbar action shows it."""
        self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.hide()
        self.docks.append(dock)
        action = self._add_action(text, lambda checked: dock.setVisible(checked), icon=icon)
        action.setCheckable(True)
        dock.visibilityChanged.connect(action.setChecked)
        dock.visibilityChanged.connect(lambda visible: visible and self._give_room(dock))
        return dock

    def _give_room(self, dock) -> None:
        """A dock shown squeezed (the dock area was sized for another dock) gets its preferred
        width, up to 45% of the window, so the Verify dock's table and photo both show."""
        window = self.iface.mainWindow()
        if dock.isFloating() or window is None:
            return
        wanted = min(dock.sizeHint().width(), int(window.width() * 0.45))
        if dock.width() < wanted * 0.8:
            window.resizeDocks([dock], [wanted], Qt.Orientation.Horizontal)
        tall = min(dock.sizeHint().height(), int(window.height() * 0.6))
        if dock.height() < tall * 0.8:  # sharing the dock area: the dock just shown gets most of it
            window.resizeDocks([dock], [tall], Qt.Orientation.Vertical)

    def _add_action(self, text: str, callback, toolbar: bool = True, icon: str = "mist.svg") -> QAction:
        action = QAction(QIcon(str(icon_path(icon))), text, self.iface.mainWindow())
        action.triggered.connect(callback)
        self.iface.addPluginToMenu(MENU, action)
        if toolbar and self.toolbar is not None:
            self.toolbar.addAction(action)
        self.actions.append(action)
        return action

    def _add_algorithm_action(self, text: str, algorithm_id: str, toolbar: bool = True,
                              icon: str = "mist.svg") -> QAction:
        """An action that opens an algorithm's dialog; the action carries the algorithm id."""
        action = self._add_action(text, self._run_algorithm(algorithm_id), toolbar, icon)
        action.setData(algorithm_id)
        return action

    def _run_algorithm(self, algorithm_id: str):
        def open_dialog() -> None:
            from .gui.algorithm_dialog import open_dialog as open_prefilled

            open_prefilled(algorithm_id)

        return open_dialog

    def start_task(self, task: QgsTask) -> None:
        """Run a task and keep a reference until it ends (QGIS does not keep Python tasks alive)."""
        self.tasks.add(task)
        task.taskCompleted.connect(lambda: self.tasks.discard(task))
        task.taskTerminated.connect(lambda: self.tasks.discard(task))
        QgsApplication.taskManager().addTask(task)

    def style_posts_by_category(self) -> None:
        """Colour the active store's posts by their text category (legend in the user's language)."""
        from .core.errors import MistError
        from .core.store import StoreError
        from .gui.active_store import active_store
        from .qgis_ops.layers import style_store_posts_by_category

        bar = self.iface.messageBar()
        store = active_store()
        if not store:
            bar.pushWarning(tr("MIST"), tr("Open or create a MIST store first."))
            return
        try:
            layers = style_store_posts_by_category(store)
        except (MistError, StoreError, OSError) as exc:
            bar.pushCritical(tr("MIST"), str(exc))
            return
        bar.pushInfo(tr("MIST"), tr("Posts coloured by text category: {n} layer(s).").format(n=len(layers)))

    def show_model_manager(self) -> None:
        """The model manager dialog (modal; nothing of it outlives its closing)."""
        from .core.dependencies import MissingDependencyError, require

        try:
            require("onnxruntime", "numpy")
        except MissingDependencyError as exc:
            QMessageBox.warning(self.iface.mainWindow(), tr("MIST models"), str(exc))
            return
        from .gui.model_manager import ModelManagerDialog
        from .model_folders import add_user_folder, profile_models_dir, registry

        dialog = ModelManagerDialog(registry, profile_models_dir(), add_user_folder, self.iface.mainWindow())
        dialog.exec()
        dialog.deleteLater()

    def show_installer(self) -> None:
        """Install the run-time packages into this profile (modal; the install runs as a task)."""
        from .gui.install_dialog import InstallDependenciesDialog
        from .runtime_folders import activate_runtime, profile_dir
        from .version import __version__

        dialog = InstallDependenciesDialog(profile_dir(), __version__, self.start_task, self.iface.mainWindow())
        dialog.exec()
        if dialog.installed:
            activate_runtime()
        dialog.deleteLater()

    def show_dependencies(self) -> None:
        lines = []
        for dep in dependencies.status():
            mark = "✓" if dep.available else "✗"
            lines.append(f"{mark} {dep.distribution} — {dep.purpose}")
        missing = [d.distribution for d in dependencies.status() if not d.available]
        if missing:
            lines += ["", dependencies.install_hint(missing)]
        QMessageBox.information(self.iface.mainWindow(), tr("MIST dependencies"), "\n".join(lines))
