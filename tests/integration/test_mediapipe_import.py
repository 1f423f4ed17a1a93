"""vmsg imports only the mediapipe solutions it uses (not the drawing helpers' matplotlib,
~2 s of a cold run), and the package stays whole for any other user in the process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.integration]

CHECK = """
import sys
from vmsg.backends.mediapipe_util import import_mediapipe
mp = import_mediapipe("test")
assert "matplotlib" not in sys.modules and "sounddevice" not in sys.modules, "heavy drawing/audio modules imported"
segmenter = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
segmenter.close()
import mediapipe
assert mediapipe.__version__ == mp.__version__
assert mediapipe.solutions.face_mesh is mp.solutions.face_mesh
from mediapipe.python.solutions import drawing_utils
assert hasattr(mediapipe.solutions, "hands") and mediapipe.tasks.vision is not None and mediapipe.Image is not None
print("ok")
"""


def test_lean_import_then_the_whole_package() -> None:
    proc = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"


def test_whole_package_first_then_vmsg() -> None:
    code = "import mediapipe, sys\nfrom vmsg.backends.mediapipe_util import import_mediapipe\n" \
           "mp = import_mediapipe('test')\nassert mp.solutions is mediapipe.solutions\nprint('ok')"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("ok")

