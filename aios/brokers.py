"""django-q2 brokers with one extra queue per supervised cluster: the probe queue.

All clusters share one work queue, so a probe put there could be run by any of them and would say
nothing about the cluster that sent it. The supervisor (aios/supervisor.py) starts each cluster with
AIOS_Q_CLUSTER_ID set; that cluster's pusher then also reads `<name>:probe:<id>`, a queue nobody
else reads, and reads it first. A probe sent there is run by that cluster or by none, which is what
tells a cluster that is alive but runs nothing (django-q2 issue #23) from one that is merely busy.
Without AIOS_Q_CLUSTER_ID (a plain `manage.py qcluster`) these behave exactly like q2's own brokers.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf


def probe_queue(cluster_id: str) -> str:
    """The queue only the cluster `cluster_id` reads."""
    return f"{Conf.CLUSTER_NAME}:probe:{cluster_id}"


def _keys(list_key: str) -> list[str]:
    own = settings.AIOS_Q_CLUSTER_ID
    # Only the cluster's own broker (on the shared queue) reads a probe queue too.
    if own and list_key == Conf.CLUSTER_NAME:
        return [probe_queue(own), list_key]
    return [list_key]


class OrmBroker(ORM):
    def dequeue(self):
        keys = _keys(self.list_key)
        if len(keys) == 1:
            return super().dequeue()
        now = timezone.now()
        queued = self.get_connection().filter(key__in=keys, lock__lt=now)
        # The probe first: a cluster with a backlog of work must still answer its heartbeat in time.
        tasks = list(queued.filter(key=keys[0])[: Conf.BULK]) or list(queued.filter(key=keys[1])[: Conf.BULK])
        claimed = [
            (task.pk, task.payload)
            for task in tasks
            # Conditional on the lock value read: another cluster that was faster wins the package.
            if self.get_connection().filter(id=task.id, lock=task.lock).update(lock=self.timeout(task))
        ]
        if claimed:
            return claimed
        if not tasks:
            # Empty queues: spare the CPU, as q2's own broker does.
            time.sleep(Conf.POLL)
        return None


class RedisBroker(Redis):
    def __init__(self, list_key: str | None = None):
        super().__init__(list_key=list_key)
        # q2's Redis broker prefixes its key; the probe queue gets the same prefix.
        self._keys = [f"django_q:{key}:q" for key in _keys(list_key or Conf.CLUSTER_NAME)]

    def dequeue(self):
        # BLPOP serves the first non-empty key in order: the probe queue before the work queue.
        package = self.connection.blpop(self._keys, 1)
        if package:
            return [(None, package[1])]
        return None
