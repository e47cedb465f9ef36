from django.core.management.base import BaseCommand

from ledger.schedules import schedules_ensure


class Command(BaseCommand):
    help = "Register the workspace's periodic jobs with django-q2 (idempotent)."

    def handle(self, *args, **options):
        for name, outcome in schedules_ensure().items():
            self.stdout.write(f"{name}: {outcome}")
