"""`manage.py supervise`: the background-work half of `up`, for a worker machine.

Runs AIOS_Q_CLUSTERS django-q2 clusters under the supervisor (aios/supervisor.py): a cluster that
exits or stops running work is restarted, and SIGTERM or Ctrl-C stops them all with nothing left
behind. No migrations and no web server: in production those are the release step and the web hosts.
"""

from __future__ import annotations

import socket

from django.core.management.base import BaseCommand

from aios.env import env_int
from aios.supervisor import Supervisor, child_env, cluster_children


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
        supervisor = Supervisor.from_settings(
            children=cluster_children(name=name, count=max(clusters, 1), env=child_env()),
            stdout=self.stdout,
        )
        supervisor.start()
        try:
            supervisor.run()
        finally:
            supervisor.stop()
        self.stdout.write("Worker clusters stopped.")
