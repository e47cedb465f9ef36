"""Payment reminders become a policy kind, and a new workspace starts with the default sequence:
friendly at 3 days past due, firm at 14, final (with the late-payment terms) at 30; drafted on working
days in working hours only."""

from django.db import migrations, models
from django.utils import timezone

NAME = "Payment reminders: friendly, firm, final"
DESCRIPTION = (
    "Each overdue invoice gets each level once, in order, drafted for approval in its thread: never when "
    "it is paid, paused by the client's question or payment notice, or on weekends and outside hours."
)
PARAMS = {
    "levels": [
        {"name": "friendly", "after_days": 3, "template": "payment_reminder"},
        {"name": "firm", "after_days": 14, "template": "payment_reminder_firm"},
        {"name": "final", "after_days": 30, "template": "payment_reminder_final"},
    ],
    "min_gap_days": 3,
    "working_days": [0, 1, 2, 3, 4],
    "working_hours": "09:00-17:00",
}
KINDS = [
    ("approval", "Approval"),
    ("budget", "Budget"),
    ("retention", "Retention"),
    ("autonomy", "Autonomy"),
    ("reminder", "Payment reminders"),
]


def create(apps, schema_editor):
    Policy = apps.get_model("ledger", "Policy")
    HistoricalPolicy = apps.get_model("ledger", "HistoricalPolicy")
    policy, created = Policy.objects.get_or_create(
        name=NAME, defaults={"kind": "reminder", "description": DESCRIPTION, "params": PARAMS, "version": 1}
    )
    if created:
        HistoricalPolicy.objects.create(
            id=policy.pk,
            name=NAME,
            kind="reminder",
            enabled=True,
            description=DESCRIPTION,
            params=PARAMS,
            version=1,
            created_at=policy.created_at,
            updated_at=policy.updated_at,
            history_date=timezone.now(),
            history_type="+",
            history_change_reason="default policy of a new workspace",
        )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_taskevent_erasure")]

    operations = [
        migrations.AlterField(
            model_name="historicalpolicy",
            name="kind",
            field=models.CharField(choices=KINDS, db_index=True, max_length=20),
        ),
        migrations.AlterField(
            model_name="policy",
            name="kind",
            field=models.CharField(choices=KINDS, db_index=True, max_length=20),
        ),
        migrations.RunPython(create, migrations.RunPython.noop),
    ]
