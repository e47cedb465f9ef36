"""The back office's view of the worker clusters the supervisor runs (read-only status rows)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from aios.models import ClusterHeartbeat
from core.admin.base import ReadOnlyPermissions


@admin.register(ClusterHeartbeat)
class ClusterHeartbeatAdmin(ReadOnlyPermissions, admin.ModelAdmin):
    list_display = (
        "cluster_id",
        "state_badge",
        "host",
        "pid",
        "last_probe_run_at",
        "probe_seconds",
        "restarts",
        "last_restart_at",
        "last_restart_reason",
        "reported_at",
    )
    list_filter = ("state", "host")
    search_fields = ("cluster_id", "host")

    @admin.display(description="State", ordering="state")
    def state_badge(self, row: ClusterHeartbeat) -> str:
        # Stalled and exited are what the operator must see at a glance.
        problem = row.state in (ClusterHeartbeat.State.STALLED, ClusterHeartbeat.State.EXITED)
        return format_html(
            '<strong style="color:{}">{}</strong>',
            "#b00020" if problem else "inherit",
            row.get_state_display(),
        )
