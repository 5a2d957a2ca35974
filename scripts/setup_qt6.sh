#!/usr/bin/env bash
# .venv-qt6: PyQt6 from the package index, only for the Qt 6 readiness check (scripts/qt6_check.py).
# Idempotent: a second run only checks the stamp.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-qt6
STAMP="$VENV/.requirements.sha256"
want=$(sha256sum requirements/qt6.txt | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "setup: $VENV with PyQt6 for the Qt 6 check"
  [ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements/qt6.txt
  echo "$want" > "$STAMP"
fi
