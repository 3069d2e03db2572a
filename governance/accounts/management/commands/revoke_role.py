from governance.accounts.management.commands._role_args import RoleCommand


class Command(RoleCommand):
    help = "Revoke ROLE from USER on a team or a model. Pending approvals by them stop counting."
    grant = False
