"""Permission checks at scale on PostgreSQL: guardian's direct-foreign-key tables.

Builds a throw-away database with many teams, models, users and role grants (bulk inserts
straight into guardian's TeamUserObjectPermission / ModelUserObjectPermission tables), then
times what pages do: the visible-models filter, the model list's first page, roles of one
user on one model, and roles for a page of 50 models.

    .venv/bin/python bench/bench_permissions.py [--models 100000] [--users 5000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from scratch_db import scratch_drop, scratch_setup

DB = "governance_bench_permissions"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--model-grants-per-user", type=int, default=200)
    args = parser.parse_args()
    scratch_setup(DB, VAR_DIR="/tmp/bench-permissions")
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db import connection

    from governance.accounts.models import ModelUserObjectPermission, Team, TeamUserObjectPermission
    from governance.accounts.permissions import roles_by_model, roles_for_model
    from governance.registry.models import RegisteredModel
    from governance.registry.selectors import models_visible_to

    rng = np.random.default_rng(0)
    started = time.monotonic()
    teams = Team.objects.bulk_create([Team(name=f"team-{i}") for i in range(args.teams)])
    team_ids = [t.pk for t in teams]
    RegisteredModel.objects.bulk_create(
        [
            RegisteredModel(name=f"model-{i:06d}", team_id=team_ids[i % len(team_ids)], risk_tier="medium")
            for i in range(args.models)
        ],
        batch_size=10_000,
    )
    model_ids = list(RegisteredModel.objects.values_list("pk", flat=True))
    User = get_user_model()
    User.objects.bulk_create([User(username=f"user-{i}") for i in range(args.users)], batch_size=10_000)
    user_ids = list(User.objects.values_list("pk", flat=True))
    team_perms = list(Permission.objects.filter(content_type__app_label="accounts", codename__startswith="role_"))
    model_perms = list(Permission.objects.filter(content_type__app_label="registry", codename__startswith="role_"))
    team_rows, model_rows = [], []
    for uid in user_ids:
        for tid in rng.choice(team_ids, 3, replace=False):
            team_rows.append(
                TeamUserObjectPermission(
                    user_id=uid, content_object_id=int(tid), permission=team_perms[int(rng.integers(len(team_perms)))]
                )
            )
        for mid in rng.choice(model_ids, args.model_grants_per_user, replace=False):
            model_rows.append(
                ModelUserObjectPermission(
                    user_id=uid, content_object_id=int(mid), permission=model_perms[int(rng.integers(len(model_perms)))]
                )
            )
    TeamUserObjectPermission.objects.bulk_create(team_rows, batch_size=20_000)
    ModelUserObjectPermission.objects.bulk_create(model_rows, batch_size=20_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    built = time.monotonic() - started
    print(
        f"built {args.teams} teams, {args.models:,} models, {args.users:,} users, {len(team_rows):,} team grants, {len(model_rows):,} model grants in {built:.0f}s"
    )

    users = list(User.objects.filter(pk__in=rng.choice(user_ids, 20, replace=False).tolist()))
    some_models = list(RegisteredModel.objects.filter(pk__in=rng.choice(model_ids, 20, replace=False).tolist()))

    def timed(label, fn, repeat=20):
        times = []
        for i in range(repeat):
            t = time.perf_counter()
            fn(i)
            times.append((time.perf_counter() - t) * 1000)
        print(f"| {label} | {statistics.median(times):.2f} | {max(times):.2f} |")
        return statistics.median(times)

    print("| operation (PostgreSQL, warm) | median ms | max ms |")
    print("|---|---:|---:|")
    timed("models visible to a user: count", lambda i: models_visible_to(users[i]).count())
    timed(
        "model list: first page of 50, ordered by name",
        lambda i: list(models_visible_to(users[i]).order_by("name")[:50]),
    )
    timed("roles of one user on one model (team + model grants)", lambda i: roles_for_model(users[i], some_models[i]))
    page = list(RegisteredModel.objects.order_by("name")[:50])
    timed("roles of one user on a page of 50 models", lambda i: roles_by_model(users[i], page))
    scratch_drop(DB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
