"""the inference gateway: model deployments and upstreams, gateway keys, token allowances,
token usage and its ratings (issue 13)

Revision ID: 0007_inference_gateway
Revises: 0008_policy_lab
Create Date: 2026-12-04 17:40:00

Expand-only: six new tables and one column with a default (billing_document's
token_charges_through), so an API process of the previous version keeps working.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_inference_gateway"
down_revision: str | Sequence[str] | None = "0008_policy_lab"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("billing_document") as batch:
        batch.add_column(
            sa.Column("token_charges_through", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "token_charge",
        sa.Column("id", _SERIAL, autoincrement=True, nullable=False),
        sa.Column("usage_id", _SERIAL, nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "subsidised",
                "over_cap",
                "payg",
                "outside_award",
                "credited",
                "refused",
                name="chargekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("award_id", sa.Uuid(), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("list_minor", sa.BigInteger(), nullable=False),
        sa.Column("subsidy_minor", sa.BigInteger(), nullable=False),
        sa.Column("copay_minor", sa.BigInteger(), nullable=False),
        sa.Column("price_ref", sa.String(length=64), nullable=False),
        sa.Column("journal_id", sa.Uuid(), nullable=True),
        sa.Column("rated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "subsidy_minor + copay_minor = list_minor",
            name=op.f("ck_token_charge_token_split_adds_up"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_charge")),
        sa.UniqueConstraint("usage_id", name=op.f("uq_token_charge_usage_id")),
    )
    op.create_index(
        "ix_token_charge_org_period", "token_charge", ["organisation_id", "period"], unique=False
    )
    op.create_table(
        "token_usage",
        sa.Column("id", _SERIAL, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("award_id", sa.Uuid(), nullable=True),
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("endpoint", sa.String(length=32), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("streamed", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("ttft_ms", sa.Integer(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("ingested_at", _TS, nullable=False),
        sa.CheckConstraint(
            "prompt_tokens >= 0 AND completion_tokens >= 0",
            name=op.f("ck_token_usage_tokens_non_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_usage")),
        sa.UniqueConstraint("request_id", name=op.f("uq_token_usage_request_id")),
    )
    op.create_index(
        "ix_token_usage_org_started", "token_usage", ["organisation_id", "started_at"], unique=False
    )
    op.create_table(
        "gateway_key",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("application", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("requests_per_minute", sa.Integer(), nullable=True),
        sa.Column("tokens_per_minute", sa.BigInteger(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_gateway_key_created_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_gateway_key_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_gateway_key_key_hash")),
    )
    op.create_index(
        op.f("ix_gateway_key_organisation_id"), "gateway_key", ["organisation_id"], unique=False
    )
    op.create_table(
        "inference_allowance",
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("monthly_tokens", sa.BigInteger(), nullable=False),
        sa.Column("requests_per_minute", sa.Integer(), nullable=True),
        sa.Column("tokens_per_minute", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"], ["award.id"], name=op.f("fk_inference_allowance_award_id_award")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inference_allowance")),
        sa.UniqueConstraint("award_id", name=op.f("uq_inference_allowance_award_id")),
    )
    op.create_table(
        "model_deployment",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("award_id", sa.Uuid(), nullable=True),
        sa.Column("accelerator_type", sa.String(length=32), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("owned_by", sa.String(length=100), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"], ["award.id"], name=op.f("fk_model_deployment_award_id_award")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_model_deployment_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_deployment")),
        sa.UniqueConstraint("name", name=op.f("uq_model_deployment_name")),
    )
    op.create_index(
        op.f("ix_model_deployment_organisation_id"),
        "model_deployment",
        ["organisation_id"],
        unique=False,
    )
    op.create_table(
        "model_upstream",
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("base_url", sa.String(length=300), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["model_deployment.id"],
            name=op.f("fk_model_upstream_deployment_id_model_deployment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_upstream")),
        sa.UniqueConstraint(
            "deployment_id", "base_url", name=op.f("uq_model_upstream_deployment_id_base_url")
        ),
    )
    op.create_index(
        op.f("ix_model_upstream_deployment_id"), "model_upstream", ["deployment_id"], unique=False
    )


def downgrade() -> None:
    with op.batch_alter_table("billing_document") as batch:
        batch.drop_column("token_charges_through")
    op.drop_index(op.f("ix_model_upstream_deployment_id"), table_name="model_upstream")
    op.drop_table("model_upstream")
    op.drop_index(op.f("ix_model_deployment_organisation_id"), table_name="model_deployment")
    op.drop_table("model_deployment")
    op.drop_table("inference_allowance")
    op.drop_index(op.f("ix_gateway_key_organisation_id"), table_name="gateway_key")
    op.drop_table("gateway_key")
    op.drop_index("ix_token_usage_org_started", table_name="token_usage")
    op.drop_table("token_usage")
    op.drop_index("ix_token_charge_org_period", table_name="token_charge")
    op.drop_table("token_charge")
