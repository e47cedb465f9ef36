"""The supervisor's status rows: one per supervised django-q2 cluster (aios/supervisor.py).

The supervisor writes them; the probe task (aios/heartbeat.py) marks its probe as run. The operator
reads them in the back office (*Worker clusters*) and `/healthz` reports from them.
"""

from __future__ import annotations

from django.db import models


class ClusterHeartbeat(models.Model):
    class State(models.TextChoices):
        STARTING = "starting", "Starting"
        RUNNING = "running", "Running"
        # Kept from the failure until the restarted cluster has run a probe.
        STALLED = "stalled", "Restarted after a stall"
        EXITED = "exited", "Restarted after an exit"
        STOPPED = "stopped", "Stopped"

    # `<supervisor name>:<index>`: stable across restarts of the same cluster, so one row tells its story.
    cluster_id = models.CharField(max_length=200, unique=True)
    host = models.CharField(max_length=200)
    pid = models.IntegerField(null=True, blank=True, help_text="The cluster's qcluster process.")
    state = models.CharField(max_length=20, choices=State.choices, default=State.STARTING)
    started_at = models.DateTimeField(null=True, blank=True)
    # The probe in flight: sent to the cluster's own queue; the cluster's worker marks it run.
    probe_token = models.CharField(max_length=64, blank=True)
    probe_sent_at = models.DateTimeField(null=True, blank=True)
    last_probe_run_at = models.DateTimeField(
        null=True, blank=True, help_text="When the cluster last ran a probe: the last proof it runs work."
    )
    probe_seconds = models.FloatField(null=True, blank=True, help_text="Send-to-run time of the last probe.")
    restarts = models.PositiveIntegerField(default=0)
    last_restart_at = models.DateTimeField(null=True, blank=True)
    last_restart_reason = models.TextField(blank=True)
    # Every supervisor loop touches the row: a stale one means the supervisor itself is gone.
    reported_at = models.DateTimeField()

    class Meta:
        ordering = ["cluster_id"]
        verbose_name = "worker cluster"

    def __str__(self) -> str:
        return f"{self.cluster_id} ({self.state})"
