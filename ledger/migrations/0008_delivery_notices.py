"""Delivery that waits for the mail server (ADR 0014): the outbox's retry window and next try, the
delivery policy kind with its default row (3 days), and persistent notices for the operator."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


DELIVERY_DEFAULT = (
    "Retry undelivered mail for 3 days",
    "delivery",
    "An email the mail server did not take is tried again, first after a minute, then at most every 30 "
    "minutes, for 3 days from its first failure; then the workspace gives up on it and tells you.",
    {"retry_hours": 72, "first_retry_seconds": 60, "max_retry_seconds": 1800},
)


def create_delivery_policy(apps, schema_editor):
    Policy = apps.get_model("ledger", "Policy")
    HistoricalPolicy = apps.get_model("ledger", "HistoricalPolicy")
    name, kind, description, params = DELIVERY_DEFAULT
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
            history_date=timezone.now(),
            history_type="+",
            history_change_reason="default policy of a new workspace",
        )


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0007_reminder_policy'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='outboxemail',
            name='first_failed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='outboxemail',
            name='next_attempt_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='historicalpolicy',
            name='kind',
            field=models.CharField(choices=[('approval', 'Approval'), ('budget', 'Budget'), ('retention', 'Retention'), ('autonomy', 'Autonomy'), ('reminder', 'Payment reminders'), ('delivery', 'Delivery')], db_index=True, max_length=20),
        ),
        migrations.AlterField(
            model_name='outboxemail',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed (gave up)')], db_index=True, default='pending', max_length=10),
        ),
        migrations.AlterField(
            model_name='policy',
            name='kind',
            field=models.CharField(choices=[('approval', 'Approval'), ('budget', 'Budget'), ('retention', 'Retention'), ('autonomy', 'Autonomy'), ('reminder', 'Payment reminders'), ('delivery', 'Delivery')], db_index=True, max_length=20),
        ),
        migrations.AlterField(
            model_name='taskevent',
            name='kind',
            field=models.CharField(choices=[('created', 'Created'), ('queued', 'Queued'), ('claimed', 'Claimed'), ('step_started', 'Step started'), ('step_finished', 'Step finished'), ('llm_call', 'LLM call'), ('memory_read', 'Memory read'), ('action_proposed', 'Action proposed'), ('policy_decision', 'Policy decision'), ('approval_asked', 'Approval asked'), ('approval_given', 'Approval given'), ('committed', 'Committed'), ('delivered', 'Delivered'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('retry_scheduled', 'Retry scheduled'), ('lease_expired', 'Lease expired'), ('dead_lettered', 'Dead-lettered'), ('requeued', 'Re-queued by the operator'), ('cancelled', 'Cancelled'), ('replayed', 'Replayed'), ('deferred', 'Deferred (budget)'), ('approval_expired', 'Approval expired'), ('reversal_asked', 'Reversal asked'), ('delivery_failed', 'Delivery failed (will retry)')], max_length=20),
        ),
        migrations.CreateModel(
            name='Notice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=200, unique=True)),
                ('level', models.CharField(choices=[('info', 'Info'), ('warning', 'Warning'), ('error', 'Error')], default='warning', max_length=10)),
                ('title', models.CharField(max_length=300)),
                ('body', models.TextField(blank=True)),
                ('link', models.CharField(blank=True, help_text='Where the operator acts on it.', max_length=500)),
                ('raised_at', models.DateTimeField(help_text='When the condition began (kept while it lasts).')),
                ('updated_at', models.DateTimeField()),
                ('occurrences', models.PositiveIntegerField(default=1)),
                ('resolved_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('resolution', models.CharField(blank=True, max_length=300)),
                ('resolved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('task', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='notices', to='ledger.task')),
            ],
            options={
                'ordering': ['-updated_at', '-id'],
            },
        ),
        migrations.RunPython(create_delivery_policy, migrations.RunPython.noop),
]
