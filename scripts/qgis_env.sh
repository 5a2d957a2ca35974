#!/usr/bin/env bash
# Run a command on one QGIS version: `scripts/qgis_env.sh 3.40 CMD...` (the copy unpacked by
# scripts/setup_qgis340.sh) or `scripts/qgis_env.sh system CMD...` (Debian's own, 3.22 on Debian 12).
# QGIS finds its data, providers and Processing plugin through QGIS_PREFIX_PATH; Python finds the
# bindings through PYTHONPATH, ahead of the system ones the venv also sees.
set -euo pipefail
which=${1:?usage: qgis_env.sh 3.40|system CMD...}
shift
case "$which" in
  3.40)
    ROOT=${QGIS340_ROOT:-/opt/qgis-3.40}
    if [ ! -f "$ROOT/.mist-packages" ]; then
      echo "QGIS 3.40 is not unpacked in $ROOT: run make setup" >&2
      exit 2
    fi
    export QGIS_PREFIX_PATH="$ROOT/usr"
    export LD_LIBRARY_PATH="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export PYTHONPATH="$ROOT/usr/share/qgis/python/plugins:$ROOT/usr/lib/python3/dist-packages:$ROOT/usr/share/qgis/python${PYTHONPATH:+:$PYTHONPATH}"
    export PATH="$ROOT/usr/bin:$PATH"
    ;;
  system)
    export QGIS_PREFIX_PATH=/usr
    ;;
  *)
    echo "qgis_env.sh: unknown QGIS '$which' (3.40 or system)" >&2
    exit 2
    ;;
esac
exec "$@"
