from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Business records"

    def ready(self) -> None:
        from core.privacy import client_data_part_register, records

        # Core's own share of a client's data; the ledger and the connectors register theirs.
        client_data_part_register(records.PART)
