"""YAML recipe → validated Recipe.

Precedence, lowest first: defaults (the stage Options models) < environment
(`VMSG_DEVICE`, `VMSG_VOICE__ENGINE`, …) < recipe file < `--set key.sub=value`.
Errors name the file, the line and the field. Relative paths resolve against
the recipe's folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vmsg.errors import RecipeError
from vmsg.stages.clone import CloneOptions
from vmsg.stages.enhance import EnhanceOptions
from vmsg.stages.mix import MixOptions
from vmsg.stages.options import DeviceName
from vmsg.stages.prosody import ProsodyOptions
from vmsg.stages.render import RenderOptions
from vmsg.stages.segment import SegmentOptions
from vmsg.stages.synth import SynthOptions

ENV_PREFIX = "VMSG_"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
DEVICE_SECTIONS = ("segment", "voice", "clone", "prosody", "render")


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image: str = Field(description="portrait photo")
    text: str = Field(description="the message, in Japanese")
    output: str = "out/message.mp4"
    device: DeviceName | None = None
    segment: SegmentOptions = Field(default_factory=SegmentOptions)
    voice: SynthOptions = Field(default_factory=SynthOptions)
    clone: CloneOptions | None = None
    prosody: ProsodyOptions = Field(default_factory=ProsodyOptions)
    enhance: EnhanceOptions = Field(default_factory=EnhanceOptions)
    mix: MixOptions = Field(default_factory=MixOptions)
    render: RenderOptions = Field(default_factory=RenderOptions)


class _LineLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (a silent overwrite hides typos)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_map(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """(key, subkey, …) → 1-based line, for every mapping key and sequence item."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = (*path, key_node.value)
            out[key_path] = key_node.start_mark.line + 1
            _line_map(value_node, key_path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*path, i)] = item.start_mark.line + 1
            _line_map(item, (*path, i), out)
    return out


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`VMSG_DEVICE=cpu`, `VMSG_VOICE__ENGINE=openjtalk` → nested dict (values parsed as YAML scalars)."""
    environ = os.environ if environ is None else environ
    result: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in ("VMSG_CACHE_DIR", "VMSG_HOME"):
            continue
        keys = name[len(ENV_PREFIX) :].lower().split("__")
        if keys[0] not in Recipe.model_fields:
            continue
        _assign(result, keys, yaml.safe_load(value) if value else value)
    return result


def parse_set(items: list[str]) -> dict[str, Any]:
    """`['voice.engine=openjtalk', 'render.fps=30']` → nested dict."""
    result: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise RecipeError(f"--set {item!r}: expected key.sub=value")
        try:
            parsed = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            parsed = value
        _assign(result, key.strip().split("."), parsed)
    return result


def _assign(target: dict, keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        target = target.setdefault(key, {})
        if not isinstance(target, dict):
            raise RecipeError(f"cannot set {'.'.join(keys)}: {key} is not a section")
    target[keys[-1]] = value


def deep_merge(base: dict, top: Mapping) -> dict:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_recipe(path: Path | str, *, overrides: list[str] | None = None, environ: Mapping[str, str] | None = None) -> Recipe:
    """Read, layer, validate and resolve a recipe file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"recipe {path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"recipe {path}: cannot be read ({exc})") from None
    try:
        node = yaml.compose(text, Loader=_LineLoader)
        data = yaml.load(text, Loader=_LineLoader) if node is not None else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise RecipeError(f"{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a recipe is a mapping of fields (image, text, voice, …), got {type(data).__name__}")
    lines = _line_map(node) if node is not None else {}
    layered = deep_merge(deep_merge(env_overrides(environ), data), parse_set(overrides or []))
    return validate_recipe(layered, source=str(path), lines=lines, base_dir=path.parent)


def validate_recipe(data: dict, *, source: str, lines: dict[tuple, int] | None = None, base_dir: Path | None = None) -> Recipe:
    """Validate a recipe dict; engine names are checked here so a typo fails before any work."""
    lines = lines or {}
    data = _propagate_device(data)
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        raise RecipeError(_format_errors(exc, source, lines)) from None
    _check_engines(recipe, source, lines)
    return resolve_paths(recipe, base_dir) if base_dir is not None else recipe


def _propagate_device(data: dict) -> dict:
    """A top-level `device` applies to every stage that does not set its own."""
    device = data.get("device")
    if device is None:
        return data
    data = dict(data)
    for section in DEVICE_SECTIONS:
        value = data.get(section)
        if section == "clone" and value is None:
            continue
        if value is None:
            value = {}
        if isinstance(value, dict) and "device" not in value:
            data[section] = {**value, "device": device}
    return data


def _format_errors(exc: ValidationError, source: str, lines: dict[tuple, int]) -> str:
    messages = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc) or "(recipe)"
        line = _nearest_line(loc, lines)
        where = f"{source}:{line}" if line else source
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_fields(loc[:-1])
            text = f"unknown field {loc[-1]!r}" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        elif kind == "missing":
            text = "required field is missing"
        else:
            text = f"{err['msg']} (got {err.get('input')!r})"
        messages.append(f"{where}: {field}: {text}")
    return "invalid recipe\n  " + "\n  ".join(messages)


def _nearest_line(loc: tuple, lines: dict[tuple, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _allowed_fields(section: tuple) -> list[str]:
    model: type[BaseModel] = Recipe
    for key in section:
        field = model.model_fields.get(str(key))
        if field is None:
            return []
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        model = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return list(model.model_fields)


def _check_engines(recipe: Recipe, source: str, lines: dict[tuple, int]) -> None:
    from vmsg.backends.clone import VOICE_CONVERTERS
    from vmsg.backends.mix import MIXERS
    from vmsg.backends.prosody import PROSODY_ENGINES
    from vmsg.backends.render import RENDERERS
    from vmsg.backends.segment import SEGMENTERS
    from vmsg.backends.tts import SPEECH_ENGINES

    checks = [
        ("segment", recipe.segment.engine, SEGMENTERS),
        ("voice", recipe.voice.engine, SPEECH_ENGINES),
        ("prosody", recipe.prosody.engine, PROSODY_ENGINES),
        ("mix", recipe.mix.engine, MIXERS),
        ("render", recipe.render.engine, RENDERERS),
    ]
    if recipe.clone is not None:
        checks.append(("clone", recipe.clone.engine, VOICE_CONVERTERS))
    for section, name, registry in checks:
        if name not in registry:
            line = _nearest_line((section, "engine"), lines)
            where = f"{source}:{line}" if line else source
            raise RecipeError(f"{where}: {section}.engine: unknown engine {name!r}; valid engines: {', '.join(registry.names())}")
        for i, fallback in enumerate(getattr(getattr(recipe, section), "fallback", None) or []):
            if fallback not in registry:
                line = _nearest_line((section, "fallback", i), lines)
                where = f"{source}:{line}" if line else source
                raise RecipeError(f"{where}: {section}.fallback[{i}]: unknown engine {fallback!r}; "
                                  f"valid engines: {', '.join(registry.names())}")


def _resolve(base: Path, value: str) -> str:
    return value if Path(value).is_absolute() or "://" in value else str((base / value).resolve())


def _looks_like_path(value: str) -> bool:
    return "/" in value or value.lower().endswith(IMAGE_SUFFIXES)


def _is_bgm_file(base: Path, value: str) -> bool:
    """A bgm value is a file path unless it names a library track (and no such file exists)."""
    from vmsg.backends.mix.library import looks_like_file, tracks

    return looks_like_file(value) or (base / value).is_file() or value not in tracks()


def resolve_paths(recipe: Recipe, base: Path) -> Recipe:
    """Make every file path in the recipe absolute, relative to `base` (the recipe's folder)."""
    updates: dict[str, Any] = {"image": _resolve(base, recipe.image), "output": _resolve(base, recipe.output)}
    segment = {name: _resolve(base, value) for name, value in (("model", recipe.segment.model),
                                                                ("detector_model", recipe.segment.detector_model)) if value}
    if _looks_like_path(recipe.segment.background):
        segment["background"] = _resolve(base, recipe.segment.background)
    if segment:
        updates["segment"] = recipe.segment.model_copy(update=segment)
    if recipe.mix.bgm and _is_bgm_file(base, recipe.mix.bgm):
        updates["mix"] = recipe.mix.model_copy(update={"bgm": _resolve(base, recipe.mix.bgm)})
    if recipe.clone is not None:
        refs = [_resolve(base, r) for r in recipe.clone.references]
        clone: dict[str, Any] = {"references": refs}
        if recipe.clone.openvoice_dir:
            clone["openvoice_dir"] = _resolve(base, recipe.clone.openvoice_dir)
        updates["clone"] = recipe.clone.model_copy(update=clone)
    return recipe.model_copy(update=updates)
