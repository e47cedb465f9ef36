"""The policies a new workspace starts with. They replace the settings AIOS_AUTO_COMMIT_ACTIONS,
AIOS_LLM_MONTHLY_BUDGET and AIOS_MEMORY_RETENTION (same defaults); the operator edits them in the admin."""

from django.db import migrations
from django.utils import timezone

DEFAULTS = [
    (
        "Record decisions without asking",
        "approval",
        "Decisions only add to the workspace's record; they reach nobody and change no money.",
        {"effect": "commit", "action_kinds": ["decision.record"]},
    ),
    (
        "Ask before untrusted input leads outside or to money",
        "approval",
        "Work started by inbound mail, files or webhooks never sends anything or touches money alone: "
        "such text may carry instructions that are not the operator's.",
        {"effect": "ask", "untrusted_source": True, "effects": ["external", "money"]},
    ),
    (
        "Ask when an agent is unsure",
        "approval",
        "An agent's own confidence below 0.6 always brings the operator in.",
        {"effect": "ask", "confidence_below": 0.6},
    ),
    (
        "Monthly LLM budget",
        "budget",
        "All LLM spend in a calendar month; over it non-critical work waits and critical work uses rules.",
        {"scope": "workspace", "agent": "", "monthly_cap": "20.00", "critical": "rules"},
    ),
    (
        "Session memory: 7 days",
        "retention",
        "The working buffer of a task or conversation.",
        {"tier": "session", "kind": "", "days": 7},
    ),
    (
        "Working memory: 2 years",
        "retention",
        "Embedded messages, summaries and decisions (canonical memory is never deleted).",
        {"tier": "working", "kind": "", "days": 730},
    ),
    (
        "Suggest autonomy after 5 clean approvals",
        "autonomy",
        "After 5 approvals in a row without edits of one agent's action kind, suggest letting it commit.",
        {"after": 5, "action_kinds": [], "agents": []},
    ),
]


def create(apps, schema_editor):
    Policy = apps.get_model("ledger", "Policy")
    HistoricalPolicy = apps.get_model("ledger", "HistoricalPolicy")
    now = timezone.now()
    for name, kind, description, params in DEFAULTS:
        policy, created = Policy.objects.get_or_create(
            name=name, defaults={"kind": kind, "description": description, "params": params, "version": 1}
        )
        if created:
            HistoricalPolicy.objects.create(
                id=policy.pk,
                name=name,
                kind=kind,
                enabled=True,
                description=description,
                params=params,
                version=1,
                created_at=policy.created_at,
                updated_at=policy.updated_at,
                history_date=now,
                history_type="+",
                history_change_reason="default policy of a new workspace",
            )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_policies_approvals")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
