"""Database guards: task status moves only along the conductor's transitions, and the event
timeline is append-only. The conductor checks both too; these hold for every other code path."""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION ledger_task_transition_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    IF (OLD.status, NEW.status) IN (
        ('queued', 'running'), ('queued', 'cancelled'),
        ('running', 'succeeded'), ('running', 'failed'), ('running', 'waiting_approval'),
        ('running', 'retrying'), ('running', 'dead'), ('running', 'cancelled'),
        ('waiting_approval', 'queued'), ('waiting_approval', 'cancelled'),
        ('failed', 'retrying'), ('failed', 'dead'),
        ('retrying', 'running'), ('retrying', 'cancelled'),
        ('dead', 'queued'), ('dead', 'cancelled')
    ) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'task % cannot go from % to %', OLD.id, OLD.status, NEW.status
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER ledger_task_transition_guard
BEFORE UPDATE OF status ON ledger_task
FOR EACH ROW EXECUTE FUNCTION ledger_task_transition_guard();

CREATE FUNCTION ledger_taskevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the task timeline is append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER ledger_taskevent_append_only
BEFORE UPDATE OR DELETE ON ledger_taskevent
FOR EACH ROW EXECUTE FUNCTION ledger_taskevent_append_only();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS ledger_taskevent_append_only ON ledger_taskevent;
DROP FUNCTION IF EXISTS ledger_taskevent_append_only();
DROP TRIGGER IF EXISTS ledger_task_transition_guard ON ledger_task;
DROP FUNCTION IF EXISTS ledger_task_transition_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
