"""`vmsg clone …`: voice profiles, conversion toward a voice, and its measured similarity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from vmsg.cli.common import DeviceOpt, OutputOpt, QuietOpt, build_options

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)

ProfileOpt = Annotated[Optional[str], typer.Option("--profile", "-p", help="a saved voice profile (vmsg clone list)")]


@app.command("convert")
def convert_command(
    speech: Annotated[Path, typer.Argument(help="speech to convert (its .timeline.json is kept)")],
    output: OutputOpt,
    ref: Annotated[Optional[list[Path]], typer.Option("--ref", help="reference clip of the target voice (1–5, repeatable)")] = None,
    profile: ProfileOpt = None,
    engine: Annotated[Optional[str], typer.Option(help="world (default), pitchmatch, openvoice, openvoice-local")] = None,
    strength: Annotated[Optional[float], typer.Option(help="world: 0 = unchanged … 1 = fully toward the voice")] = None,
    openvoice_url: Annotated[Optional[str], typer.Option(help="openvoice: the service's base URL")] = None,
    timeout: Annotated[Optional[float], typer.Option(help="openvoice: seconds to wait for one conversion")] = None,
    openvoice_dir: Annotated[Optional[Path], typer.Option(help="openvoice-local: folder with config.json and checkpoint.pth")] = None,
    device: DeviceOpt = "auto",
    quiet: QuietOpt = False,
) -> None:
    """Convert SPEECH toward a --profile or the --ref clips; write -o (same length and timeline)."""
    from vmsg.cli.output import done
    from vmsg.errors import UsageError
    from vmsg.stages.clone import CloneOptions, clone
    from vmsg.store import check_writable
    from vmsg.timeline_io import read_speech, write_speech

    if not ref and not profile:
        raise UsageError("give a voice: --profile NAME or --ref clip.wav (1–5)")
    if ref and profile:
        raise UsageError("give either --profile or --ref, not both")
    options = build_options(CloneOptions, engine=engine, device=device, references=[str(r) for r in ref or []] or None,
                            profile=profile, strength=strength, openvoice_url=openvoice_url, timeout=timeout,
                            openvoice_dir=str(openvoice_dir) if openvoice_dir else None)
    check_writable(output)
    result = clone(read_speech(speech), options)
    write_speech(output, result)
    done(f"wrote {output} ({result.duration:.2f} s)", quiet, output=str(output), seconds=round(result.duration, 3))


@app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="the profile's name (an alias; the profile is keyed by the clips' content)")],
    clips: Annotated[list[Path], typer.Argument(help="1–5 reference clips, each ≥ 3 s, any audio format")],
    no_voice: Annotated[bool, typer.Option("--no-voice-choice", help="skip choosing the Kokoro voice by measurement (faster; synth --profile then converts the engine's voice fully)")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Analyse CLIPS into a voice profile saved as NAME."""
    from vmsg.cli.output import done
    from vmsg.stages.clone import create_profile

    profile = create_profile(name, [str(c) for c in clips], choose_voice=not no_voice)
    done(f"profile {name} ({profile.id}) from {len(profile.clips)} clip(s), {profile.seconds:.1f} s", quiet,
         profile=name, id=profile.id)


@app.command("list")
def list_command() -> None:
    """Print the saved profiles as JSON: name, id, clips, seconds."""
    from vmsg.profiles import ProfileStore

    store = ProfileStore()
    rows = []
    for name, pid in store.names().items():
        try:
            p = store.load(name)
            rows.append({"name": name, "id": pid, "clips": len(p.clips), "seconds": round(p.seconds, 2)})
        except Exception as exc:  # noqa: BLE001 - one broken profile must not hide the others
            rows.append({"name": name, "id": pid, "error": str(exc)})
    print(json.dumps(rows, ensure_ascii=False, indent=2))


@app.command("show")
def show_command(name: Annotated[str, typer.Argument(help="profile name or id")]) -> None:
    """Print one profile's facts as JSON (clips and their sha256, F0, fit figures)."""
    from vmsg.profiles import ProfileStore

    print(json.dumps(ProfileStore().load(name).summary(), ensure_ascii=False, indent=2))


@app.command("delete")
def delete_command(name: Annotated[str, typer.Argument(help="profile name")], quiet: QuietOpt = False) -> None:
    """Remove the name; the profile's files go when no other name points to them."""
    from vmsg.cli.output import done
    from vmsg.profiles import ProfileStore

    pid = ProfileStore().delete(name)
    done(f"deleted profile {name} ({pid})", quiet, profile=name, id=pid)


@app.command("score")
def score_command(
    speech: Annotated[Path, typer.Argument(help="speech to measure")],
    profile: Annotated[str, typer.Option("--profile", "-p", help="the voice profile to compare with")],
    baseline: Annotated[Optional[Path], typer.Option(help="the same words before conversion: the '0' anchor")] = None,
) -> None:
    """Print speaker similarity to PROFILE (resemblyzer), raw and normalised, as JSON."""
    from vmsg.media.audio import read_audio
    from vmsg.profiles import ProfileStore
    from vmsg.speaker import score

    voice = ProfileStore().load(profile)
    samples, rate = read_audio(speech, what="speech")
    base = read_audio(baseline, what="baseline") if baseline else None
    print(json.dumps({"speech": str(speech), "profile": profile, **score(samples, rate, voice, baseline=base, what=f"speech {speech}")},
                     ensure_ascii=False, indent=2))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="clone", help="voice profiles and voice cloning: create, convert, score")
