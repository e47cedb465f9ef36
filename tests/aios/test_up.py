"""`manage.py up` (what `make run` runs): comes up, serves, signs the demo operator in, stops cleanly."""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import psutil
from django.conf import settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(log_path, text, process, seconds=180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        content = log_path.read_text(errors="replace")
        if text in content:
            return content
        assert process.poll() is None, f"up exited early:\n{content}"
        time.sleep(0.5)
    raise AssertionError(f"{text!r} did not appear:\n{log_path.read_text(errors='replace')}")


def _postgres_of(pgdata):
    return [
        p
        for p in psutil.process_iter(attrs=("name", "cmdline", "status"))
        if p.info["name"] == "postgres"
        and p.info["status"] != psutil.STATUS_ZOMBIE
        and str(pgdata) in " ".join(p.info["cmdline"] or [])
    ]


def test_up_serves_the_demo_and_ctrl_c_stops_everything(tmp_path):
    port = _free_port()
    data_dir = tmp_path / "data"
    log_path = tmp_path / "up.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AIOS_") and key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        AIOS_DATA_DIR=str(data_dir),
        AIOS_PORT=str(port),
        AIOS_WEB_WORKERS="1",
        AIOS_Q_WORKERS="1",
        DJANGO_SETTINGS_MODULE="aios.settings",
    )
    with log_path.open("w") as log:
        # A new session, like a terminal: Ctrl-C is SIGINT to the whole foreground process group.
        up = subprocess.Popen(
            [sys.executable, "manage.py", "up"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        banner = _wait_for(log_path, "Stop:", up)
        assert f"http://127.0.0.1:{port}/" in banner
        email = re.search(r"Sign in:\s+(\S+)", banner).group(1)
        password = re.search(r"Password:\s+(\S+)", banner).group(1)
        assert email == "mara@northwind.studio"
        family = psutil.Process(up.pid).children(recursive=True)
        assert any("gunicorn" in " ".join(p.cmdline()) for p in family)
        assert any("qcluster" in " ".join(p.cmdline()) for p in family)

        base = f"http://127.0.0.1:{port}"
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login_page = browser.open(f"{base}/accounts/login/", timeout=10).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
        form = urllib.parse.urlencode({"login": email, "password": password, "csrfmiddlewaretoken": token})
        request = urllib.request.Request(
            f"{base}/accounts/login/", data=form.encode(), headers={"Referer": f"{base}/accounts/login/"}
        )
        home = browser.open(request, timeout=10)
        assert home.url == f"{base}/"
        assert "Northwind Studio" in home.read().decode()
        clients = browser.open(f"{base}/admin/core/client/", timeout=10).read().decode()
        assert "Bergvik Kafferosteri AB" in clients and "Vos &amp; Partners Architecten B.V." in clients
        docs = browser.open(f"{base}/api/v1/docs", timeout=10)
        assert docs.status == 200 and "swagger" in docs.read().decode().lower()
        health = json.loads(urllib.request.urlopen(f"{base}/healthz", timeout=10).read())
        assert health == {"status": "ok", "problems": []}

        # A web server that dies is started again.
        [web] = [p for p in family if "gunicorn" in " ".join(p.cmdline()) and p.ppid() == up.pid]
        web.kill()
        _wait_for(log_path, "web server exited with code -9", up)
        deadline = time.monotonic() + 60
        while log_path.read_text().count("web server started") < 2:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.3)
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{base}/healthz", timeout=5).status == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.3)
        family = psutil.Process(up.pid).children(recursive=True)
    finally:
        os.killpg(up.pid, signal.SIGINT)
        up.wait(timeout=60)

    assert up.returncode == 0, log_path.read_text()
    # Every child and everything it forked (gunicorn workers, q2's sentinel, workers, monitor, pusher).
    left = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert left == [], [p.cmdline() for p in left]
    assert "Workspace stopped." in log_path.read_text()
    deadline = time.monotonic() + 20
    while _postgres_of(data_dir / "pgdata") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_of(data_dir / "pgdata"), "the embedded PostgreSQL outlived up"
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()
    assert "database system is shut down" in (data_dir / "pgdata" / "log").read_text()
    leftovers = [
        p
        for p in psutil.process_iter(attrs=("cmdline",))
        if str(port) in " ".join(p.info["cmdline"] or []) and "gunicorn" in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == []
