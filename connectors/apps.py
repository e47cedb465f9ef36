from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connectors"

    def ready(self) -> None:
        from connectors import privacy
        from core.privacy import client_data_part_register

        # Raw mail is part of a client's data (export, erase: docs/adr/0012).
        client_data_part_register(privacy.PART)
