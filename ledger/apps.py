from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Task ledger"

    def ready(self) -> None:
        # Imported here, not at module level: apps.py is loaded before the app registry is ready.
        from core import ports
        from core.privacy import client_data_part_register
        from ledger import (
            memory_jobs,
            workflows,  # noqa: F401 - registers the ledger's own workflows
        )
        from ledger.money import timeline
        from ledger.privacy import part as privacy_part
        from ledger.privacy import services as privacy_services
        from ledger.services import invoices as invoice_services

        # Core asks for memory work through its ports; the ledger is what does it (docs/adr/0009).
        ports.memory_capture_submit.wire(memory_jobs.memory_capture_submit)
        ports.memory_recalled.wire(memory_jobs.memory_recall_record)
        ports.client_data_request.wire(privacy_services.client_data_request)
        ports.invoice_send_request.wire(invoice_services.invoice_send_request)
        ports.invoice_timeline.wire(timeline.invoice_timeline_events)
        # The work about a client is part of the client's data (export, erase: docs/adr/0012).
        client_data_part_register(privacy_part.PART)
