from django.core.management.base import BaseCommand

from governance.accounts.management.commands._role_args import add_role_arguments, resolve_role_arguments
from governance.accounts.services import role_revoke


class Command(BaseCommand):
    help = "Revoke ROLE from USER on a team or a model. Pending approvals by them stop counting."

    def add_arguments(self, parser):
        add_role_arguments(parser)

    def handle(self, *args, **options):
        target = resolve_role_arguments(options)
        role_revoke(actor=None, **target)
        scope = f"team {target['team'].name}" if target["team"] else f"model {target['model'].name}"
        self.stdout.write(f"revoked {target['role']} from {target['user'].get_username()} on {scope}")
