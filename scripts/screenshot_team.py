"""A screenshot of two analysts' Verify docks on one team store (`make screenshot-team`).

    .venv/bin/python scripts/screenshot_team.py --store postgresql://... --field build/demo/mist-demo.gpkg
                                                [--out docs/img/qgis_verify_team.png]

Pushes the demo's GeoPackage store into an empty team store, opens the MIST Verify dock twice,
each on its own connection (analysts "ana" and "ben"), both taking one post at a time; ben judges
the photo ana has in view before her dock hears of it, so ana's verdict comes back as a conflict
with both verdicts, and ben's dock shows ana's verdict arriving. Grabs both docks side by side.
Needs a display (Xvfb) for native widgets; `make screenshot-team` starts a throwaway PostgreSQL
cluster for it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="an empty team store (postgresql://... or service=NAME)")
    parser.add_argument("--field", default=str(REPO / "build" / "demo" / "mist-demo.gpkg"),
                        help="the demo's store, pushed into the team store (run `make demo` first)")
    parser.add_argument("--out", default=str(REPO / "docs" / "img" / "qgis_verify_team.png"))
    args = parser.parse_args(argv)

    from mist_qgis.headless import init_processing, start_qgis

    start_qgis(gui=True)
    init_processing()
    from qgis.PyQt.QtCore import Qt
    from qgis.PyQt.QtTest import QTest
    from qgis.PyQt.QtWidgets import QApplication, QHBoxLayout, QWidget

    from mist_qgis.core.store import open_store
    from mist_qgis.core.store.sync import push
    from mist_qgis.core.verify.records import Verdict
    from mist_qgis.core.verify.verdicts import write_verdict
    from mist_qgis.gui.verify_dock import VerifyDock

    if not Path(args.field).is_file():
        print(f"screenshot-team: no demo store at {args.field} (run `make demo`)", file=sys.stderr)
        return 2
    with open_store(args.field, read_only=True) as field, open_store(args.store) as team:
        push(field, team)

    def settle(ms: int = 400) -> None:
        QTest.qWait(ms)

    window = QWidget()
    window.setWindowTitle("MIST Verify: two analysts on one team store")
    row = QHBoxLayout(window)
    docks = []
    for name in ("ana", "ben"):
        dock = VerifyDock()
        dock.setWindowTitle(f"MIST Verify ({name})")
        dock.analyst_edit.setText(name)
        row.addWidget(dock)
        docks.append(dock)
    window.resize(1840, 1000)
    window.show()
    ana, ben = docks
    for dock in docks:
        if not dock.open_store(args.store):
            print(f"screenshot-team: {dock.status.text()}", file=sys.stderr)
            return 1
        dock._poll.stop()  # the shot shows what the notifications do
    ana.lease_mode.setChecked(True)
    ben.lease_mode.setChecked(True)
    settle()
    row_ = ana.current_row()
    write_verdict(ben.store, Verdict(row_.post_fid, "not_flood", "ben", row_.media_fid))
    ana.table.setFocus()
    QTest.keyClick(ana.table, Qt.Key.Key_U)
    settle()
    ben.advance.setChecked(False)
    ben.table.setFocus()
    QTest.keyClick(ben.table, Qt.Key.Key_1)
    settle(1500)  # ben's verdict reaches ana's dock through LISTEN/NOTIFY
    QApplication.processEvents()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(out))
    for dock in docks:
        dock.cleanup()
    print(f"screenshot-team: {out}" if ok else f"screenshot-team: cannot write {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
