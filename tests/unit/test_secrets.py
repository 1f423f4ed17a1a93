"""API keys from the environment or a file (vmsg/secrets.py)."""

from __future__ import annotations

import logging
import pickle

import pytest

from vmsg.errors import BackendError, InputError
from vmsg.secrets import read_secret, scrub


def test_from_environment_and_never_shown():
    secret = read_secret("X_KEY", what="X key", environ={"X_KEY": "  user:abcdef123  "})
    assert secret.reveal() == "user:abcdef123"
    assert "abcdef123" not in repr(secret) and "abcdef123" not in str(secret) and "$X_KEY" in repr(secret)
    assert f"{secret}" == str(secret)
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_from_a_file_the_environment_wins(tmp_path):
    path = tmp_path / "key"
    path.write_text("from-file-key-987\n")
    path.chmod(0o600)
    assert read_secret("X_KEY", what="X key", environ={"X_KEY_FILE": str(path)}).reveal() == "from-file-key-987"
    both = {"X_KEY": "from-env-key-654", "X_KEY_FILE": str(path)}
    assert read_secret("X_KEY", what="X key", environ=both).reveal() == "from-env-key-654"


def test_world_readable_key_file_warns_without_the_value(tmp_path, caplog):
    path = tmp_path / "key"
    path.write_text("leaky-key-value-42")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        read_secret("X_KEY", what="X key", environ={"X_KEY_FILE": str(path)})
    assert "readable by other users" in caplog.text and "leaky-key-value-42" not in caplog.text


def test_missing_empty_and_unset(tmp_path):
    with pytest.raises(InputError, match="nope.key.*file not found"):
        read_secret("X_KEY", what="X key", environ={"X_KEY_FILE": str(tmp_path / "nope.key")})
    empty = tmp_path / "empty.key"
    empty.write_text("\n")
    with pytest.raises(InputError, match="is empty"):
        read_secret("X_KEY", what="X key", environ={"X_KEY_FILE": str(empty)})
    with pytest.raises(BackendError, match="X key is not set") as caught:
        read_secret("X_KEY", what="X key", environ={})
    assert "X_KEY_FILE" in str(caught.value)


def test_scrub_removes_every_value_read():
    read_secret("X_KEY", what="X key", environ={"X_KEY": "scrub-me-please-77"})
    assert scrub("server echoed Basic scrub-me-please-77 back") == "server echoed Basic <redacted> back"
    assert scrub("nothing here") == "nothing here"
