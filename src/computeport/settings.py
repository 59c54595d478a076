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
    backend: Literal["sim", "slurm"] = "sim"
    secret_key: str = Field(
        default="dev-insecure-change-me",
        description="Signs browser sessions and CSRF tokens; set it in production.",
    )
    base_url: str = "http://127.0.0.1:8000"
    attachments_dir: Path = Path("var/attachments")
    attachment_max_bytes: int = 20 * 1024 * 1024
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_sender: str = "aiss-noreply@computeport.local"
    smtp_enabled: bool = False
    sim_speed: float = Field(default=1440.0, description="Simulated seconds per wall second.")
    auto_close_grace_days: int | None = Field(
        default=None,
        ge=0,
        description="Close each month automatically this many days after it ends (the worker); "
        "unset: months are closed by hand with `computeport billing close`.",
    )
    worker_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a worker's duty lease lasts without a heartbeat: after a worker "
        "dies, another takes its duties within this plus one round (about a second).",
    )
    slurm_cluster: str = "computeport"
    slurm_conf: Path | None = None
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
