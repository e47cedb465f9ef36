"""`manage.py up`: the whole workspace in one command (what `make run` runs).

Migrates, seeds the demo workspace on first start, then runs the web server (gunicorn) and
AIOS_Q_CLUSTERS django-q2 clusters under the supervisor (aios/supervisor.py: a child that dies is
restarted, a cluster that stops running work is restarted, every child and what it forked is gone
after Ctrl-C or SIGTERM), waits until the web server answers, and prints the URL and the demo login.
The embedded PostgreSQL is stopped cleanly when the last process attached to it exits.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.request
from urllib.error import URLError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from aios.demo import demo_password, demo_workspace_create
from aios.env import env_bool, env_int, env_str
from aios.supervisor import Child, Supervisor, child_env, cluster_children
from core.demo import DEMO_OPERATOR_EMAIL
from core.selectors import workspace_get


class Command(BaseCommand):
    help = "Run the workspace: migrations, demo data on first start, web server and background worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=env_str("AIOS_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=env_int("AIOS_PORT", 8000, minimum=1))
        parser.add_argument("--no-demo", action="store_true", help="Do not create the demo workspace.")

    def handle(self, *args, host: str, port: int, no_demo: bool, **options):
        self._check_port_free(host, port)
        self.stdout.write("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("schedules_ensure", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        login = None
        if not no_demo and env_bool("AIOS_SEED_DEMO", True):
            login = self._seed_demo_on_first_start()

        supervisor = Supervisor.from_settings(children=self._children(host, port), stdout=self.stdout)
        supervisor.start()
        try:
            url = f"http://{host}:{port}/"
            self._wait_until_up(f"{url}healthz", supervisor)
            if not supervisor.stop_requested:
                self._print_banner(url, login)
            supervisor.run()
            self.stdout.write("Stopping…")
        finally:
            supervisor.stop()
        self.stdout.write("Workspace stopped.")

    def _check_port_free(self, host: str, port: int) -> None:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            # As gunicorn binds: connections of a previous run lingering in TIME_WAIT do not count as
            # "in use" (a listening server still does).
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise CommandError(
                    f"Port {port} on {host} is in use ({exc.strerror}). Stop what runs there or choose "
                    "another port: AIOS_PORT=8001 make run"
                ) from None

    def _seed_demo_on_first_start(self) -> tuple[str, str] | None:
        if workspace_get() is None:
            self.stdout.write("First start: creating the demo workspace Northwind Studio…")
            demo_workspace_create(stdout=self.stdout)
        # Only print the demo login while the demo operator still exists with the demo password.
        user = get_user_model().objects.filter(email=DEMO_OPERATOR_EMAIL, is_active=True).first()
        if user is not None and user.check_password(demo_password()):
            return DEMO_OPERATOR_EMAIL, demo_password()
        return None

    def _children(self, host: str, port: int) -> list[Child]:
        env = child_env()
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "aios.wsgi:application",
            "--bind",
            f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "--workers",
            str(env_int("AIOS_WEB_WORKERS", 2, minimum=1)),
            "--threads",
            "4",
            "--timeout",
            "60",
            "--graceful-timeout",
            "10",
            "--access-logfile",
            "-",
        ]
        return [
            Child(name="web server", argv=web, env=env, cwd=str(settings.BASE_DIR)),
            *cluster_children(
                name=socket.gethostname(), count=env_int("AIOS_Q_CLUSTERS", 1, minimum=1), env=env
            ),
        ]

    def _wait_until_up(self, health_url: str, supervisor: Supervisor) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not supervisor.stop_requested:
            supervisor.tick()
            try:
                with urllib.request.urlopen(health_url, timeout=2) as response:  # noqa: S310 - our own URL
                    if response.status == 200:
                        return
            except (URLError, OSError):
                pass
            time.sleep(0.3)
        if not supervisor.stop_requested:
            raise CommandError(f"The web server did not answer at {health_url} within 120 seconds.")

    def _print_banner(self, url: str, login: tuple[str, str] | None) -> None:
        lines = [
            "",
            "AIOS Workspace is running.",
            f"  Open:         {url}",
            f"  Back office:  {url}admin/",
            f"  API docs:     {url}api/v1/docs",
        ]
        if login:
            lines += [f"  Sign in:      {login[0]}", f"  Password:     {login[1]}"]
        lines += ["  Stop:         Ctrl-C", ""]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
