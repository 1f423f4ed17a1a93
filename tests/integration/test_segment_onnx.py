"""The ONNX segmentation family.

SINet runs with its real weights (fixture). BiRefNet, U²-Net, u2netp and MODNet weights are not
available offline: their loaders run on graphs built here with the published input/output
signature, whose output is the first input channel. That checks layout (NCHW), channel order
(RGB vs BGR), scaling, normalisation, input size, output choice and post-processing exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import fixture_file
from tests.segment_helpers import iou, load_rgb
from vmsg.backends.segment import SEGMENTERS
from vmsg.errors import ModelError

pytestmark = pytest.mark.integration

SIGNATURES = {
    # engine: (input name, input shape, output names)
    "birefnet": ("input_image", [1, 3, 1024, 1024], ["output_image"]),
    "u2net": ("input.1", [1, 3, 320, 320], ["1959", "1960", "1961", "1962", "1963", "1964", "1965"]),
    "u2netp": ("input.1", [1, 3, 320, 320], ["1959", "1960", "1961", "1962", "1963", "1964", "1965"]),
    "modnet": ("input", [1, 3, "height", "width"], ["output"]),
}


def first_channel_graph(path, input_name, shape, outputs):
    """A graph with the export's signature whose every output is input[:, 0:1] (plus i × 0.01)."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Slice", [input_name, "starts", "ends", "axes"], ["first"])]
    inits = [helper.make_tensor(n, TensorProto.INT64, [1], [v]) for n, v in (("starts", 0), ("ends", 1), ("axes", 1))]
    for i, name in enumerate(outputs):
        inits.append(helper.make_tensor(f"k{i}", TensorProto.FLOAT, [], [0.01 * i]))
        nodes.append(helper.make_node("Add", ["first", f"k{i}"], [name]))
    out_shape = [1, 1] + shape[2:]
    graph = helper.make_graph(nodes, "signature", [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, out_shape) for n in outputs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def red_blue():
    """Left half pure red, right half pure blue, 300×500 (not square, to test resizing back)."""
    img = np.zeros((300, 500, 3), np.uint8)
    img[:, :250, 0] = 255
    img[:, 250:, 2] = 255
    return img


EXPECTED = {
    # alpha on the red half, on the blue half
    "birefnet": (1 / (1 + np.exp(-(1 - 0.485) / 0.229)), 1 / (1 + np.exp(0.485 / 0.229))),  # sigmoid of normalised R
    "u2net": (1.0, 0.0),  # min-max of normalised R
    "u2netp": (1.0, 0.0),
    "modnet": (1.0, 0.0),  # (R/255 - 0.5)/0.5 = ±1, clipped to [0, 1]
}


@pytest.mark.parametrize("engine", sorted(SIGNATURES))
def test_loader_pre_and_post_processing_on_signature_graph(engine, red_blue, tmp_path):
    name, shape, outputs = SIGNATURES[engine]
    path = first_channel_graph(tmp_path / f"{engine}.onnx", name, shape, outputs)
    seg = SEGMENTERS.create(engine, model_path=str(path), device="cpu")
    alpha = seg.matte(image=red_blue)
    assert alpha.shape == red_blue.shape[:2] and alpha.dtype == np.float32
    on_red, on_blue = EXPECTED[engine]
    assert abs(float(np.median(alpha[:, :200])) - on_red) < 0.02
    assert abs(float(np.median(alpha[:, 300:])) - on_blue) < 0.02


def test_modnet_input_follows_the_reference_resize():
    from vmsg.backends.segment.onnx import modnet_size

    assert modnet_size(300, 500) == (512, 832)
    assert modnet_size(1080, 1920) == (512, 896)
    assert all(v % 32 == 0 for v in modnet_size(777, 333))


def test_sinet_real_weights_segment_the_composite_example():
    from PIL import Image

    seg = SEGMENTERS.create("sinet", model_path=str(fixture_file("models/sinet_portrait.onnx")), device="cpu")
    image = load_rgb("composite_example")
    truth = np.asarray(Image.open(fixture_file("images/composite_example_mask.png")).convert("L")) / 255.0
    score = iou(seg.matte(image=image), truth)
    assert score > 0.93, score


def test_missing_and_corrupt_weights_are_model_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("VMSG_MODELS_DIR", str(tmp_path / "empty"))
    with pytest.raises(ModelError, match="vmsg models pull birefnet-general"):
        SEGMENTERS.create("birefnet")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a graph")
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        SEGMENTERS.create("u2netp", model_path=str(bad))


@pytest.mark.parametrize("engine", ["mediapipe", "sinet"])
def test_runnable_segmenters_keep_the_contract(engine):
    from vmsg.backends.protocols import Segmenter

    kwargs = {"model_path": str(fixture_file("models/sinet_portrait.onnx"))} if engine == "sinet" else {}
    seg = SEGMENTERS.create(engine, **kwargs)
    assert isinstance(seg, Segmenter) and seg.version
    image = load_rgb("example03")[::2, ::2]
    alpha = seg.matte(image=np.ascontiguousarray(image))
    assert alpha.shape == image.shape[:2] and alpha.dtype == np.float32
    assert 0.0 <= alpha.min() and alpha.max() <= 1.0 and 0.1 < (alpha > 0.5).mean() < 0.9
