"""The task timeline stays append-only, with one exception: erasing a client's personal data.

The erase (ledger.privacy.part) sets `aios.erasing` for its own transaction (SET LOCAL) and may then blank
the text of events (`message`, `data`); their task, kind, step, attempt and time cannot change, and rows
still cannot be deleted. Every other UPDATE or DELETE is refused as before.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION ledger_taskevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('aios.erasing', true) = 'on'
       AND (NEW.id, NEW.task_id, NEW.kind, NEW.step, NEW.attempt, NEW.at)
           IS NOT DISTINCT FROM (OLD.id, OLD.task_id, OLD.kind, OLD.step, OLD.attempt, OLD.at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the task timeline is append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""

BACKWARD = r"""
CREATE OR REPLACE FUNCTION ledger_taskevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the task timeline is append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_default_policies")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
