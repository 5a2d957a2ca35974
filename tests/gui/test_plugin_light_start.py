"""Starting the plugin's GUI must not import the heavy packages: they load on first use."""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "torchvision", "onnxruntime", "kornia", "transformers", "cv2", "sklearn", "matplotlib",
         "sentence_transformers", "scipy", "skimage")


def test_init_gui_imports_nothing_heavy():
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from mist_qgis.headless import start_qgis
        start_qgis(gui=True)
        import mist_qgis
        from tests.helpers.stub_iface import StubIface
        plugin = mist_qgis.classFactory(StubIface())
        plugin.initGui()
        print("heavy:" + ",".join(m for m in {HEAVY!r} if m in sys.modules))
        plugin.unload()
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "heavy:\n" in out.stdout, out.stdout
