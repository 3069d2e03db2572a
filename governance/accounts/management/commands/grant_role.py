from governance.accounts.management.commands._role_args import RoleCommand


class Command(RoleCommand):
    help = "Grant ROLE to USER on a team (all its models) or on one model."
    grant = True
