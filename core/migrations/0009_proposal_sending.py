"""Proposals say "sending" while their email waits in the outbox (ADR 0014)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0008_payments'),
    ]

    operations = [
        migrations.AlterField(
            model_name='historicalproposal',
            name='status',
            field=models.CharField(choices=[('draft', 'Draft'), ('pending_approval', 'Pending approval'), ('sending', 'Sending'), ('sent', 'Sent'), ('accepted', 'Accepted'), ('declined', 'Declined'), ('withdrawn', 'Withdrawn')], db_index=True, default='draft', max_length=20),
        ),
        migrations.AlterField(
            model_name='proposal',
            name='status',
            field=models.CharField(choices=[('draft', 'Draft'), ('pending_approval', 'Pending approval'), ('sending', 'Sending'), ('sent', 'Sent'), ('accepted', 'Accepted'), ('declined', 'Declined'), ('withdrawn', 'Withdrawn')], db_index=True, default='draft', max_length=20),
        ),
    ]
