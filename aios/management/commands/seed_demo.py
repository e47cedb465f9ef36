"""`manage.py seed_demo`: create the demo workspace Northwind Studio; running it again changes nothing."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from aios.demo import demo_password, demo_workspace_create
from core.demo import DEMO_OPERATOR_EMAIL


class Command(BaseCommand):
    help = (
        "Create the demo workspace Northwind Studio and its operator. Records that already exist are "
        "left as they are, so it is safe to run again."
    )

    def handle(self, *args, **options):
        demo_workspace_create(stdout=self.stdout)
        operator = get_user_model().objects.get(email__iexact=DEMO_OPERATOR_EMAIL)
        self.stdout.write(f"Sign in:   {DEMO_OPERATOR_EMAIL}")
        # The operator may have changed the demo password since; never print one that does not work.
        if operator.check_password(demo_password()):
            self.stdout.write(f"Password:  {demo_password()}")
        else:
            self.stdout.write("Password:  the one you set (no longer the demo password)")
