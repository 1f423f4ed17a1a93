"""Text limits, device refusal, and the engine registries."""

from __future__ import annotations

import pytest

from vmsg.backends.tts import SPEECH_ENGINES
from vmsg.device import onnx_providers, require_cpu_only
from vmsg.errors import BackendError, InputError
from vmsg.text import MAX_TEXT_CHARS, normalize_text, split_sentences


def test_text_limits():
    with pytest.raises(InputError, match="empty"):
        normalize_text("   ")
    with pytest.raises(InputError, match="nothing pronounceable"):
        normalize_text("！？…。")
    with pytest.raises(InputError, match=f"limit is {MAX_TEXT_CHARS}"):
        normalize_text("あ" * (MAX_TEXT_CHARS + 1))
    assert normalize_text("ＡＢＣ　です") == "ABC です"


def test_sentences_keep_their_punctuation():
    assert split_sentences(normalize_text("こんにちは。元気？はい！")) == ["こんにちは。", "元気?", "はい!"]


def test_cuda_is_refused_clearly_when_absent():
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has CUDA")
    with pytest.raises(BackendError, match="no CUDAExecutionProvider"):
        onnx_providers("cuda")
    assert onnx_providers("auto") == ["CPUExecutionProvider"]
    with pytest.raises(BackendError, match="CPU only"):
        require_cpu_only("cuda", "still")
    with pytest.raises(InputError, match="not one of"):
        onnx_providers("tpu")


def test_unknown_engine_lists_valid_names():
    with pytest.raises(InputError, match="valid engines: kokoro, openjtalk"):
        SPEECH_ENGINES.check("espeak")
