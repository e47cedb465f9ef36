"""Cluster heartbeats in one process: the probe's bookkeeping, the stall verdict, /healthz and the admin.

The supervisor's behaviour with real processes is in test_supervisor.py; here the clock is frozen and
each rule is checked exactly, including the cases that must not count as a stall.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django_q.models import OrmQ

from aios import heartbeat
from aios.brokers import probe_queue
from aios.models import ClusterHeartbeat
from core import clock

DEADLINE = 10


@pytest.fixture
def heartbeat_settings(settings):
    settings.AIOS_HEARTBEAT_SECONDS = 2
    settings.AIOS_HEARTBEAT_DEADLINE_SECONDS = DEADLINE
    return settings


def _later(seconds: float):
    return clock.frozen(clock.now() + dt.timedelta(seconds=seconds))


@pytest.mark.django_db
def test_a_probe_goes_to_the_clusters_own_queue_and_marks_its_row_when_run(frozen_clock):
    heartbeat.cluster_started(cluster_id="host:1", host="host", pid=123)
    token = heartbeat.cluster_probe_send(cluster_id="host:1")
    # One package, on the queue only cluster host:1 reads; sending again while it is awaited adds none.
    assert heartbeat.cluster_probe_send(cluster_id="host:1") == token
    assert list(OrmQ.objects.values_list("key", flat=True)) == [probe_queue("host:1")]
    assert probe_queue("host:1") == "aios:probe:host:1"

    with _later(3):
        assert heartbeat.probe_run("host:1", "a-different-token") is False
        assert ClusterHeartbeat.objects.get().state == ClusterHeartbeat.State.STARTING
        assert heartbeat.probe_run("host:1", token) is True
    row = ClusterHeartbeat.objects.get()
    assert row.state == ClusterHeartbeat.State.RUNNING
    assert row.probe_token == ""
    assert row.probe_seconds == 3
    assert row.last_probe_run_at == frozen_clock + dt.timedelta(seconds=3)
    # A late duplicate of the same probe changes nothing.
    assert heartbeat.probe_run("host:1", token) is False


def _running_cluster_with_probe_sent() -> None:
    heartbeat.cluster_started(cluster_id="host:1", host="host", pid=123)
    heartbeat.probe_run("host:1", heartbeat.cluster_probe_send(cluster_id="host:1"))
    heartbeat.cluster_probe_send(cluster_id="host:1")


@pytest.mark.django_db
def test_an_overdue_probe_is_a_stall_only_after_the_deadline_of_idle_workers(frozen_clock):
    _running_cluster_with_probe_sent()

    def check(busy_at=None):
        return heartbeat.cluster_probe_check(cluster_id="host:1", busy_at=busy_at, deadline_seconds=DEADLINE)

    with _later(DEADLINE - 1):
        assert not check().stalled
    # A worker was busy until a second ago: the probe waits behind its task, the deadline starts then.
    busy_until = frozen_clock + dt.timedelta(seconds=DEADLINE)
    with _later(DEADLINE + 1):
        assert not check(busy_at=busy_until).stalled
        verdict = check()
    assert verdict.stalled
    assert (
        verdict.reason
        == f"its probe was not run within {DEADLINE} s (waited {DEADLINE + 1} s, no worker busy)"
    )
    with _later(2 * DEADLINE + 1):
        assert check(busy_at=busy_until).stalled


@pytest.mark.django_db
def test_a_starting_cluster_gets_time_to_start_before_its_first_probe_counts(frozen_clock):
    heartbeat.cluster_started(cluster_id="host:1", host="host", pid=123)
    heartbeat.cluster_probe_send(cluster_id="host:1")
    allowed = DEADLINE + heartbeat.STARTUP_SECONDS
    with _later(allowed - 1):
        assert not heartbeat.cluster_probe_check(
            cluster_id="host:1", busy_at=None, deadline_seconds=DEADLINE
        ).stalled
    with _later(allowed + 1):
        assert heartbeat.cluster_probe_check(
            cluster_id="host:1", busy_at=None, deadline_seconds=DEADLINE
        ).stalled


@pytest.mark.django_db
def test_healthz_is_ok_with_running_and_stopped_clusters(operator_client, frozen_clock, heartbeat_settings):
    _running_cluster_with_probe_sent()
    heartbeat.cluster_started(cluster_id="other:1", host="other", pid=9)
    heartbeat.cluster_stopped(cluster_id="other:1")
    response = operator_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["problems"] == []
    assert [cluster["cluster"] for cluster in body["clusters"]] == ["host:1"]


@pytest.mark.django_db
def test_healthz_says_degraded_from_a_stall_until_the_restarted_cluster_runs_a_probe(
    client, operator, frozen_clock, heartbeat_settings
):
    _running_cluster_with_probe_sent()
    heartbeat.cluster_restarting(
        cluster_id="host:1", state=ClusterHeartbeat.State.STALLED, reason="its probe was not run"
    )
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["problems"] == ["cluster host:1: restarted after a stall, no work run since"]
    # The new process starts: still degraded, nothing shows yet that it runs work.
    heartbeat.cluster_started(cluster_id="host:1", host="host", pid=124)
    assert client.get("/healthz").json()["status"] == "degraded"
    heartbeat.probe_run("host:1", heartbeat.cluster_probe_send(cluster_id="host:1"))
    assert client.get("/healthz").json() == {"status": "ok", "problems": []}
    client.force_login(operator)
    assert client.get("/healthz").json() == {
        "status": "ok",
        "problems": [],
        "clusters": [
            {
                "cluster": "host:1",
                "state": "running",
                "restarts": 1,
                "last_probe_run_at": frozen_clock.isoformat(),
            }
        ],
    }


@pytest.mark.django_db
def test_healthz_says_degraded_when_a_probe_is_overdue_or_the_supervisor_went_quiet(
    client, frozen_clock, heartbeat_settings
):
    _running_cluster_with_probe_sent()
    with _later(DEADLINE + 1):
        body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["problems"] == [f"cluster host:1 has not run its probe for {DEADLINE + 1} s"]

    heartbeat.probe_run("host:1", ClusterHeartbeat.objects.get().probe_token)
    silent = 3 * heartbeat_settings.AIOS_HEARTBEAT_SECONDS + 10
    with _later(silent - 1):
        assert client.get("/healthz").json()["status"] == "ok"
    with _later(silent + 1):
        body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["problems"] == [
        f"cluster host:1: its supervisor has not reported since {frozen_clock:%H:%M:%S}"
    ]


@pytest.mark.django_db
def test_the_back_office_lists_worker_clusters_read_only(operator_client, frozen_clock):
    _running_cluster_with_probe_sent()
    heartbeat.cluster_restarting(
        cluster_id="host:1", state=ClusterHeartbeat.State.EXITED, reason="exited with 1"
    )
    page = operator_client.get("/admin/aios/clusterheartbeat/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "host:1" in content and "Restarted after an exit" in content and "exited with 1" in content
    row = ClusterHeartbeat.objects.get()
    assert operator_client.get(f"/admin/aios/clusterheartbeat/{row.pk}/delete/").status_code == 403
    assert operator_client.get("/admin/aios/clusterheartbeat/add/").status_code == 403
