from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Task ledger"

    def ready(self) -> None:
        # Imported here, not at module level: apps.py is loaded before the app registry is ready.
        from core import ports
        from ledger import memory_jobs
        from ledger.housekeeping import workflows  # noqa: F401 - registers the ledger's own workflows

        # Core asks for memory work through its ports; the ledger is what does it (docs/adr/0009).
        ports.memory_capture_submit.wire(memory_jobs.memory_capture_submit)
        ports.memory_recalled.wire(memory_jobs.memory_recall_record)
