"""Reminders say "sending" while their email waits in the outbox (ADR 0014)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0009_proposal_sending'),
    ]

    operations = [
        migrations.AlterField(
            model_name='invoicereminder',
            name='status',
            field=models.CharField(choices=[('proposed', 'Waiting for approval'), ('sending', 'Sending'), ('sent', 'Sent'), ('cancelled', 'Cancelled')], default='proposed', max_length=10),
        ),
    ]
