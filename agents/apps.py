from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents"

    def ready(self) -> None:
        # Registers every agent and workflow declared in code (in ready(): models must be loaded first).
        from agents import workflows  # noqa: F401
