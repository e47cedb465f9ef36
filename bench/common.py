"""What several benchmarks set up the same way: the bench user, a workspace that can issue invoices, and the
environment of a django-q2 cluster started as a separate process on the bench's database."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from core import services

# Complete business details: issuing an invoice is refused without them (core.invoicing.details).
BUSINESS_DETAILS = {
    "legal_name": "Bench AB",
    "street": "Storgatan 1",
    "postcode": "111 22",
    "city": "Stockholm",
    "country": "SE",
    "vat_id": "SE556677880801",
    "iban": "SE4550000000058398257466",
}


def bench_user() -> Any:
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    return user


def bench_workspace(*, by: Any, prefix: str, **details: Any) -> None:
    """Configure the workspace for a benchmark: invoice prefix `prefix`, EUR, 30 days, business details
    (`details` overrides any of them)."""
    services.workspace_configure(
        by=by,
        **{
            "name": "Bench",
            "operator_name": "Bench",
            "operator_email": "b@example.com",
            "invoice_prefix": prefix,
            "default_currency": "EUR",
            "payment_terms_days": 30,
            **BUSINESS_DETAILS,
            **details,
        },
    )


def cluster_env(data_dir: str, *, workers: int, **extra: str) -> dict[str, str]:
    """The environment of a `qcluster` process on this run's database (`extra`: more AIOS_ settings)."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}:{db['PORT']}/{db['NAME']}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AIOS_") and key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="aios.settings",
        DATABASE_URL=url,
        AIOS_DATA_DIR=data_dir,
        # django-q2 signs packages with the secret key: the cluster must share ours.
        AIOS_SECRET_KEY=settings.SECRET_KEY,
        AIOS_Q_WORKERS=str(workers),
        AIOS_LOG_FORMAT="plain",
        AIOS_LOG_LEVEL="WARNING",
        **extra,
    )
    return env
