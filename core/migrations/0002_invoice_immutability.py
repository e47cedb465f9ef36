"""Database guards for issued invoices: their lines and money fields can never change.

Services refuse such edits with a readable message; these triggers make the rule hold for every
other path too (raw SQL, a buggy admin action, a future app). Void and re-issue instead.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION core_invoiceline_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target_invoice bigint;
    invoice_status text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        target_invoice := OLD.invoice_id;
    ELSE
        target_invoice := NEW.invoice_id;
    END IF;
    SELECT status INTO invoice_status FROM core_invoice WHERE id = target_invoice;
    IF invoice_status IS DISTINCT FROM 'draft' AND invoice_status IS NOT NULL THEN
        RAISE EXCEPTION 'invoice % is %: its lines cannot change (void it and issue a new one)',
            target_invoice, invoice_status USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.invoice_id <> NEW.invoice_id THEN
        SELECT status INTO invoice_status FROM core_invoice WHERE id = OLD.invoice_id;
        IF invoice_status IS DISTINCT FROM 'draft' THEN
            RAISE EXCEPTION 'invoice % is %: its lines cannot change', OLD.invoice_id, invoice_status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER core_invoiceline_guard
BEFORE INSERT OR UPDATE OR DELETE ON core_invoiceline
FOR EACH ROW EXECUTE FUNCTION core_invoiceline_guard();

CREATE FUNCTION core_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice % is issued and cannot be deleted (void it instead)', OLD.number
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' THEN
        IF (NEW.client_id, NEW.currency, NEW.subtotal, NEW.tax_total, NEW.total, NEW.number,
            NEW.number_year, NEW.number_sequence, NEW.issue_date)
           IS DISTINCT FROM
           (OLD.client_id, OLD.currency, OLD.subtotal, OLD.tax_total, OLD.total, OLD.number,
            OLD.number_year, OLD.number_sequence, OLD.issue_date) THEN
            RAISE EXCEPTION 'invoice % is issued: its client, currency, amounts, number and issue date are final',
                OLD.number USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF NEW.status = 'draft' OR OLD.status IN ('paid', 'void') AND NEW.status <> OLD.status THEN
            RAISE EXCEPTION 'invoice % cannot go from % to %', OLD.number, OLD.status, NEW.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER core_invoice_guard
BEFORE UPDATE OR DELETE ON core_invoice
FOR EACH ROW EXECUTE FUNCTION core_invoice_guard();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS core_invoice_guard ON core_invoice;
DROP FUNCTION IF EXISTS core_invoice_guard();
DROP TRIGGER IF EXISTS core_invoiceline_guard ON core_invoiceline;
DROP FUNCTION IF EXISTS core_invoiceline_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
