"""Frames in, mp4 out: raw yuv420p frames piped to ffmpeg's stdin, with the
soundtrack muxed as AAC (the encoder settings of the still renderer, with
the fast AAC coder)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from vmsg.errors import BackendError, InputError
from vmsg.media.ffmpeg import ffmpeg_binary
from vmsg.threads import ffmpeg_args


class FramePipe:
    """`with FramePipe(...) as pipe: pipe.write(yuv)`; the file is complete when the block exits cleanly."""

    def __init__(self, output: Path, *, width: int, height: int, fps: int, samples: np.ndarray, sample_rate: int,
                 options: Any) -> None:
        self.output, self.width, self.height, self.fps = Path(output), width, height, fps
        self.samples, self.sample_rate, self.options = samples, sample_rate, options
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> "FramePipe":
        import soundfile as sf

        self._tmp = tempfile.TemporaryDirectory(prefix="vmsg-render-")
        audio = Path(self._tmp.name) / "audio.wav"
        sf.write(str(audio), self.samples, self.sample_rate, subtype="FLOAT")
        o = self.options
        cmd = [
            ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{self.width}x{self.height}", "-r", str(self.fps), "-i", "-",
            "-i", str(audio), "-map", "0:v", "-map", "1:a",
            "-c:v", "libx264", "-preset", o.preset, "-crf", str(o.crf), "-pix_fmt", "yuv420p", "-r", str(self.fps),
            *x264_params(o), *ffmpeg_args(),
            # the fast AAC coder costs a third of the default's CPU; at speech bitrates the difference is not audible
            "-c:a", "aac", "-aac_coder", "fast", "-b:a", o.audio_bitrate, "-movflags", "+faststart", "-f", "mp4", str(self.output),
        ]
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._stderr)
        _widen_pipe(self._proc.stdin.fileno(), self.width * self.height * 3 // 2)
        return self

    def write(self, frame: np.ndarray) -> None:
        try:
            self._proc.stdin.write(memoryview(np.ascontiguousarray(frame)).cast("B"))
        except BrokenPipeError:
            self._finish(kill=True, report=True)

    def _finish(self, *, kill: bool, report: bool) -> None:
        """Close the pipe and wait; `report` turns a failed ffmpeg into a BackendError with its log."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
        except BrokenPipeError:
            kill = True
        if kill:
            proc.kill()
        code = proc.wait()
        self._stderr.seek(0)
        log = self._stderr.read().decode("utf-8", "replace").strip()
        self._stderr.close()
        if self._tmp is not None:
            self._tmp.cleanup()
        if report and (code != 0 or kill):
            tail = "\n".join(log.splitlines()[-6:]) or f"exit code {code}"
            raise BackendError(f"ffmpeg failed while encoding {self.output.name}: {tail}")

    def __exit__(self, exc_type, exc, tb) -> None:
        self._finish(kill=exc_type is not None, report=exc_type is None)


def x264_params(options: Any) -> list[str]:
    """ffmpeg arguments for the options' extra x264 settings (none for options without them)."""
    settings = options.x264_settings() if hasattr(options, "x264_settings") else ""
    return ["-x264-params", settings] if settings else []


def _widen_pipe(fd: int, frame_bytes: int) -> None:
    """Let a whole frame sit in the pipe (Linux), so drawing the next one overlaps ffmpeg reading this one."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), min(max(frame_bytes, 65536), 1 << 20))
    except (ImportError, OSError):
        pass


def decode_frames(path: Path | str, *, max_side: int | None = None):
    """(frames iterator of uint8 RGB, width, height, fps, (source width, height)) for a video, scaled so its
    longer side is ≤ max_side."""
    from vmsg.media.ffmpeg import probe

    info = probe(path)
    video = next((s for s in info["streams"] if s.get("codec_type") == "video"), None)
    if video is None:
        raise InputError(f"{path}: no video stream")
    w, h = int(video["width"]), int(video["height"])
    original = (w, h)
    num, den = (int(x) for x in video.get("avg_frame_rate", "25/1").split("/"))
    fps = num / den if den else 25.0
    if max_side and max(w, h) > max_side:
        scale = max_side / max(w, h)
        w, h = int(round(w * scale / 2)) * 2, int(round(h * scale / 2)) * 2
    cmd = [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(path),
           "-vf", f"scale={w}:{h}:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]

    def frames():
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        size = w * h * 3
        try:
            while True:
                buf = proc.stdout.read(size)
                if len(buf) < size:
                    break
                yield np.frombuffer(buf, np.uint8).reshape(h, w, 3)
        finally:
            proc.stdout.close()
            proc.kill()
            proc.wait()

    return frames(), w, h, fps, original


def decode_audio(path: Path | str, rate: int = 16000) -> np.ndarray:
    """The first audio stream as mono float32 at `rate`."""
    proc = subprocess.run([ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(path),
                           "-vn", "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"], capture_output=True, check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise InputError(f"{path}: no readable audio track ({proc.stderr.decode(errors='replace').strip()[:200]})")
    return np.frombuffer(proc.stdout, np.float32).copy()
