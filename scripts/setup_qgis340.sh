#!/usr/bin/env bash
# QGIS 3.40 LTR beside the system QGIS: Debian's bookworm-backports packages, unpacked (never
# installed) into one folder, so the system QGIS (3.22 on Debian 12) stays as it is and both can
# be tested. `scripts/qgis_env.sh 3.40 CMD` runs a command on this copy.
# Idempotent: a second run only checks the stamp.
set -euo pipefail

ROOT=${QGIS340_ROOT:-/opt/qgis-3.40}
VERSION=3.40.6+dfsg-1~bpo12+1
LIBV=3.40.6
PACKAGES=(qgis python3-qgis python3-qgis-common qgis-providers qgis-providers-common qgis-common
          "libqgis-core$LIBV" "libqgis-gui$LIBV" "libqgis-analysis$LIBV" "libqgis-3d$LIBV"
          "libqgis-app$LIBV" "libqgis-native$LIBV" "libqgis-server$LIBV" "libqgispython$LIBV"
          libqgis-customwidgets)
# What the 3.40 packages need beyond Debian 12's QGIS 3.22 (python3-pyqt5.qtserialport,
# python3-pyqt5.qtmultimedia and their Qt libraries) comes from bookworm: scripts/setup.sh installs it.
SOURCES=/etc/apt/sources.list.d/bookworm-backports.list
STAMP="$ROOT/.mist-packages"
want="${PACKAGES[*]}=$VERSION"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

if ! grep -qs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/*; then
  echo "setup: adding bookworm-backports to apt's sources ($SOURCES; nothing is installed from it)"
  echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee "$SOURCES" >/dev/null
fi
if ! apt-cache show "python3-qgis=$VERSION" >/dev/null 2>&1; then
  $SUDO apt-get update -qq
fi

echo "setup: unpacking QGIS $LIBV from bookworm-backports into $ROOT (the system QGIS is left alone)"
debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
chmod 777 "$debs"  # apt's download user must be able to write there
(cd "$debs" && apt-get download -qq "${PACKAGES[@]/%/=$VERSION}")
staging="$ROOT.partial"
$SUDO rm -rf "$staging"
$SUDO mkdir -p "$staging"
for deb in "$debs"/*.deb; do
  $SUDO dpkg -x "$deb" "$staging"
done
echo "$want" | $SUDO tee "$staging/.mist-packages" >/dev/null
# Only a complete copy takes the final name.
$SUDO rm -rf "$ROOT"
$SUDO mv "$staging" "$ROOT"
