"""Demo data: teams, people with realistic roles, the shipped policies and the worked examples.

Idempotent: each scenario completes whatever of it is missing, so running it again (or
after a run that stopped half-way) leaves the same demo. Works with or without a Celery
worker running. The scenarios live in governance/demo/scenarios.py.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from governance.demo.engine import demo_seed, person_summary
from governance.demo.scenarios import PASSWORD, PEOPLE


class Command(BaseCommand):
    help = "Create (or complete) the demo: teams, people and their roles, policies and worked-example models."

    def add_arguments(self, parser):
        parser.add_argument(
            "--gate-timeout",
            type=float,
            default=None,
            help="seconds to wait for gates a running worker already claimed (default: task time limit + 60)",
        )

    def handle(self, *args, **options):
        result = demo_seed(say=self.stdout.write, gate_timeout=options["gate_timeout"])
        for line in result.waiting_for_worker:
            self.stdout.write(f"awaiting gates, computed once a Celery worker runs: {line}")
        for line in result.deviations:
            self.stdout.write(f"differs from the scripted demo (changed since?): {line}")
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {PASSWORD}):")
        for person in PEOPLE:
            self.stdout.write(f"  {person.username:<11} {person_summary(person)}")
        if result.incomplete:
            raise CommandError("the demo is incomplete: " + " | ".join(result.incomplete))
