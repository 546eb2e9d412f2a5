"""Run the job worker, kept running through database faults (concord.worker)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from concord.worker import run_worker


class Command(BaseCommand):
    help = (
        "Run the background job worker until SIGTERM/SIGINT. Unlike `procrastinate worker`, it "
        "survives database restarts, read-only periods and timeouts: it reconnects with back-off."
    )

    def add_arguments(self, parser):
        parser.add_argument("--queues", default="", help="comma-separated queues (default: every queue)")
        parser.add_argument("--name", default="worker", help="the worker's name in logs and job contexts")

    def handle(self, *args, queues: str, name: str, **options):
        names = [queue.strip() for queue in queues.split(",") if queue.strip()]
        if queues and not names:
            raise CommandError("--queues names no queue", returncode=2)
        run_worker(queues=names or None, name=name)
