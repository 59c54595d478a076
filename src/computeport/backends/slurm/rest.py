"""Optional slurmrestd access (read side) over its unix socket, standard library only.

slurmrestd's v0.0.38 answers carry the same schemas as ``squeue --json`` / ``sinfo --json``, so
the CLI parsers read them too.  The API version lives in :data:`SLURMRESTD_API_VERSION` and
nowhere else: Slurm 23.x and later drop v0.0.38 and serve reshaped v0.0.39+ schemas, so moving
to a newer Slurm means changing this constant and checking the parsers on recorded output.
Submissions stay with ``sbatch`` (see backend.py); a portal that submits through slurmrestd with
the user's own JWT would add ``POST /slurm/{version}/job/submit`` here.
"""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path
from typing import Any

from computeport.backends.errors import BackendError, BackendOutputInvalid, BackendUnavailable
from computeport.backends.slurm.sinfo import parse_sinfo_json
from computeport.backends.slurm.squeue import parse_squeue_json
from computeport.backends.types.inventory import NodeInfo
from computeport.backends.types.jobs import JobInfo

__all__ = ["SLURMRESTD_API_VERSION", "SlurmRestClient"]

SLURMRESTD_API_VERSION = "v0.0.38"
"""The one place the slurmrestd OpenAPI version is named (Slurm 22.05)."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(str(self._path))
        self.sock = sock


class SlurmRestClient:
    """GET requests to slurmrestd on a unix socket (``rest_auth/local``)."""

    def __init__(self, socket_path: Path, *, timeout_seconds: float = 10.0) -> None:
        self.socket_path = socket_path
        self.timeout_seconds = timeout_seconds

    def get(self, path: str) -> dict[str, Any]:
        """``GET /slurm/<version>/<path>``; typed errors for every way it can fail."""
        url = f"/slurm/{SLURMRESTD_API_VERSION}/{path.lstrip('/')}"
        conn = _UnixConnection(self.socket_path, self.timeout_seconds)
        try:
            conn.request("GET", url)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise BackendUnavailable(
                f"slurmrestd at {self.socket_path} did not answer {url}: {exc}"
            ) from None
        finally:
            conn.close()
        if response.status >= 400:
            raise BackendError(f"slurmrestd answered {response.status} to {url}")
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise BackendOutputInvalid(f"slurmrestd {url}: line {exc.lineno}: {exc.msg}") from None
        if not isinstance(data, dict):
            raise BackendOutputInvalid(f"slurmrestd {url}: not a JSON object")
        return data

    def ping(self) -> bool:
        """True when slurmctld answers through slurmrestd."""
        pings = self.get("ping").get("pings") or []
        return any(isinstance(p, dict) and p.get("ping") == "UP" for p in pings)

    def jobs(self) -> list[JobInfo]:
        return parse_squeue_json(self.get("jobs"))

    def nodes(self) -> list[NodeInfo]:
        return parse_sinfo_json(self.get("nodes"))
