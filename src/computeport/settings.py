"""Configuration read once from the environment (``COMPUTEPORT_*``) and passed down explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a deployment sets; constructed once by ``create_app``, the CLI or the worker."""

    model_config = SettingsConfigDict(env_prefix="COMPUTEPORT_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/computeport.sqlite3",
        description="SQLAlchemy URL; SQLite by default, postgresql+psycopg://… in production.",
    )
    backend: Literal["sim", "slurm"] = Field(
        default="sim",
        description="The cluster: `sim` (the embedded virtual cluster, one process, for demos) "
        "or `slurm` (a real Slurm cluster through its client commands).",
    )
    secret_key: str = Field(
        default="dev-insecure-change-me",
        description="Signs browser sessions and CSRF tokens; set it in production.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address users reach the portal at (behind the reverse proxy); "
        "`https://…` makes session cookies Secure.",
    )
    attachments_dir: Path = Field(
        default=Path("var/attachments"),
        description="Where uploaded application attachments are stored; shared by every API "
        "process (a network filesystem when they run on several machines).",
    )
    attachment_max_bytes: int = Field(
        default=20 * 1024 * 1024, description="Largest attachment accepted, in bytes."
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP relay for notifications.")
    smtp_port: int = Field(default=8025, description="Port of the SMTP relay.")
    smtp_sender: str = Field(
        default="aiss-noreply@computeport.local", description="From address of notifications."
    )
    smtp_enabled: bool = Field(
        default=False, description="Send the notification outbox by SMTP (the worker)."
    )
    sim_speed: float = Field(default=1440.0, description="Simulated seconds per wall second.")
    auto_close_grace_days: int | None = Field(
        default=None,
        ge=0,
        description="Close each month automatically this many days after it ends (the worker); "
        "unset: months are closed by hand with `computeport billing close`.",
    )
    slurm_cluster: str = Field(
        default="computeport", description="Slurm's ClusterName (with `backend=slurm`)."
    )
    slurm_conf: Path | None = Field(
        default=None, description="slurm.conf to use (SLURM_CONF); unset: Slurm's default."
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="OpenID Connect issuer URL; set with the client id and secret to enable "
        "single sign-on.",
    )
    oidc_client_id: str | None = Field(default=None, description="OIDC client id.")
    oidc_client_secret: str | None = Field(
        default=None, description="OIDC client secret (keep it in the env file, mode 0600)."
    )
