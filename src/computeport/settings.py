"""Configuration read once from the environment (``COMPUTEPORT_*``) and passed down explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - published on purpose; refused
DEFAULT_DATABASE_URL = "sqlite:///var/computeport.sqlite3"


class Settings(BaseSettings):
    """Everything a deployment sets; constructed once by ``create_app``, the CLI or the worker."""

    model_config = SettingsConfigDict(env_prefix="COMPUTEPORT_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; SQLite by default, postgresql+psycopg://… in production.",
    )
    backend: Literal["sim", "slurm"] = Field(
        default="sim",
        description="The cluster: `sim` (the embedded virtual cluster, one process, for demos) "
        "or `slurm` (a real Slurm cluster through its client commands).",
    )
    secret_key: str = Field(
        default=DEFAULT_SECRET_KEY,
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
    worker_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a worker's duty lease lasts without a heartbeat: after a worker "
        "dies, another takes its duties within this plus one round (about a second).",
    )
    slurm_cluster: str = Field(
        default="computeport", description="Slurm's ClusterName (with `backend=slurm`)."
    )
    slurm_conf: Path | None = Field(
        default=None, description="slurm.conf to use (SLURM_CONF); unset: Slurm's default."
    )
    inventory_file: Path | None = Field(
        default=None,
        description="The centre's inventory TOML (docs/sites.md): when set, the server checks it "
        "at start (shape, references, a GPU-hour price in force for every accelerator type) "
        "and refuses to start on a problem, naming its line. Loading it stays "
        "`computeport clusters load`.",
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
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where failed sign-ins and token failures are counted (a `limits` storage "
        "URI): `memory://` counts in this process; `redis://host:6379/0` is shared by every "
        "API process of a deployment.",
    )
    rate_limit_prefix: str = Field(
        default="computeport",
        description="Prefix of every counter's key in the storage (deployments sharing a store).",
    )
    login_limit_account: str = Field(
        default="5 per 15 minutes",
        description="Failed sign-ins allowed per email address in a moving window; the next "
        "attempt is refused until the window moves on.",
    )
    login_limit_address: str = Field(
        default="30 per 15 minutes",
        description="Failed sign-ins allowed per client address in a moving window.",
    )
    token_limit_address: str = Field(
        default="30 per 5 minutes",
        description="Failed API token checks allowed per client address in a moving window.",
    )
    gateway_limits_url: str = Field(
        default="memory://",
        description="Where the inference gateway counts requests and tokens per minute and "
        "tokens per month: `memory://` in this process; `redis://host:6379/0` shared by every "
        "API process (needed for limits that hold across processes).",
    )
    gateway_key_rpm: int = Field(
        default=600, ge=1, description="Requests per minute allowed per gateway key by default."
    )
    gateway_key_tpm: int = Field(
        default=200_000, ge=1, description="Tokens per minute allowed per gateway key by default."
    )
    gateway_org_rpm: int = Field(
        default=3_000,
        ge=1,
        description="Requests per minute allowed per organisation (all its keys) by default.",
    )
    gateway_org_tpm: int = Field(
        default=1_000_000,
        ge=1,
        description="Tokens per minute allowed per organisation (all its keys) by default.",
    )
    gateway_max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Largest request body the gateway accepts (bigger: 413, nothing forwarded).",
    )
    gateway_max_audio_bytes: int = Field(
        default=25 * 1024 * 1024,
        ge=1024,
        description="Largest upload /v1/audio/… accepts (OpenAI's 25 MB; bigger: 413).",
    )
    gateway_max_audio_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Longest audio /v1/audio/… accepts (longer: 422, nothing forwarded).",
    )
    gateway_flush_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often the gateway writes its buffered usage records (one batch).",
    )
    gateway_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        description="How long a process trusts its cached keys and deployments; a key revoked "
        "in another process stops working within this time.",
    )
    gateway_upstream_timeout: float = Field(
        default=300.0, gt=0, description="Seconds an upstream may take to answer a request."
    )
    gateway_hold_seconds: float = Field(
        default=900.0,
        ge=10,
        description="How long a request's budget hold lasts: a request still running then is "
        "ended by the gateway, and the hold of a process that died is released after it.",
    )
    gateway_budget_timezone: str = Field(
        default="Asia/Hong_Kong",
        description="The time zone whose calendar months the monthly token and money budgets "
        "follow.",
    )

    @property
    def is_https(self) -> bool:
        """Whether the deployment is reached over https (secure cookies, HSTS)."""
        return self.base_url.lower().startswith("https://")


class InsecureSecretKey(Exception):
    """The default secret key in a deployment that is not the embedded default."""


def require_production_secret(settings: Settings, *, insecure_dev: bool = False) -> None:
    """Refuse to run a server process (``serve``, ``worker``) with the published default key.

    Anyone who knows the key can forge a session cookie for any user, so a deployment on a real
    database must set its own.  The embedded SQLite default (a developer's laptop, the demo)
    and an explicit ``--insecure-dev`` are let through.
    """
    if settings.secret_key != DEFAULT_SECRET_KEY or insecure_dev:
        return
    if settings.database_url == DEFAULT_DATABASE_URL:
        return
    raise InsecureSecretKey(
        "COMPUTEPORT_SECRET_KEY is the published default, which lets anyone forge a session; "
        "set it to a long random value, e.g. export COMPUTEPORT_SECRET_KEY="
        "\"$(python -c 'import secrets; print(secrets.token_urlsafe(48))')\" "
        "(the same value in every process of the deployment), or pass --insecure-dev for a "
        "throw-away development server"
    )
