"""`manage.py supervise`: the background-work half of `up`, for a worker machine.

Runs AIOS_Q_CLUSTERS django-q2 clusters under the supervisor (aios/supervisor.py): a cluster that
exits or stops running work is restarted, and SIGTERM or Ctrl-C stops them all with nothing left
behind. No migrations and no web server: in production those are the release step and the web hosts.
"""

from __future__ import annotations

import os
import signal
import socket
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from aios.env import env_int
from aios.management.commands.up import STOP_GRACE_SECONDS
from aios.supervisor import Supervisor, cluster_children


class Command(BaseCommand):
    help = "Run and watch this machine's django-q2 worker clusters (restarted when they die or stall)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--name",
            default=socket.gethostname(),
            help="Names the clusters (<name>:1, <name>:2 …) on their status rows; the host name by default.",
        )
        parser.add_argument(
            "--clusters", type=int, default=env_int("AIOS_Q_CLUSTERS", 1, minimum=1), help="Clusters to run."
        )

    def handle(self, *args, name: str, clusters: int, **options):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "aios.settings"),
        }
        supervisor = Supervisor(
            children=cluster_children(
                name=name,
                count=max(clusters, 1),
                python=sys.executable,
                manage=str(settings.BASE_DIR / "manage.py"),
                cwd=str(settings.BASE_DIR),
                env=env,
            ),
            heartbeat_seconds=settings.AIOS_HEARTBEAT_SECONDS,
            deadline_seconds=settings.AIOS_HEARTBEAT_DEADLINE_SECONDS,
            stop_grace_seconds=env_int("AIOS_STOP_GRACE_SECONDS", STOP_GRACE_SECONDS, minimum=1),
            say=self._say,
        )
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, supervisor.request_stop)
        supervisor.start()
        try:
            supervisor.run()
        finally:
            supervisor.stop()
        self.stdout.write("Worker clusters stopped.")

    def _say(self, line: str) -> None:
        # Unbuffered: the operator (or a log collector reading a pipe) sees a restart when it happens.
        self.stdout.write(line)
        self.stdout.flush()
