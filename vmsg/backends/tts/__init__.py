"""Speech synthesis engines."""

from vmsg.backends.registry import Registry

SPEECH_ENGINES: Registry = Registry(
    "synth",
    {
        "kokoro": "vmsg.backends.tts.kokoro:KokoroEngine",
        "openjtalk": "vmsg.backends.tts.openjtalk:OpenJTalkEngine",
        "voicevox": "vmsg.backends.tts.voicevox:VoicevoxEngine",
    },
)
