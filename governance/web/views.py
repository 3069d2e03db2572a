"""Browser pages. Thin: permission helper → form → one service call → redirect or partial."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance.accounts.models import Team
from governance.accounts.permissions import (
    require,
    roles_for_model,
    user_may,
    user_may_manage_policies,
    user_may_manage_roles,
)
from governance.accounts.roles import Action
from governance.accounts.selectors import role_holdings
from governance.accounts.services import role_grant, role_revoke
from governance.approvals import services as promotions
from governance.approvals.acceptances import gate_acceptance_views
from governance.approvals.declared import disagreements
from governance.approvals.manifest import manifest_changes, request_manifest
from governance.approvals.models import OPEN_STATUSES, PostIncidentReview, PromotionRequest
from governance.approvals.reviews import review_submit
from governance.approvals.selectors import (
    INBOX_TABS,
    decision_right_for,
    inbox_tab,
    request_for_user,
    request_slot_state,
)
from governance.approvals.transitions import next_stages
from governance.core.errors import DomainError
from governance.evidence.documents import document_fields
from governance.evidence.markdown import render_markdown
from governance.evidence.models import Artifact, DocumentKind, QueuedUpload
from governance.evidence.parsers import EvidenceError, preview_rows
from governance.evidence.queued import evidence_receive
from governance.evidence.selectors import (
    comparison_with_production,
    declared_metrics,
    documents_completeness,
    documents_current,
)
from governance.evidence.services import DocumentError, columnar_local_path, document_save
from governance.evidence.uploads import received_file
from governance.gates.models import GateStatus
from governance.policies.loader import PolicyError
from governance.policies.models import Policy
from governance.policies.services import policy_diff, policy_for_model, policy_publish
from governance.registry.models import ModelVersion, RegisteredModel, RiskTier, Stage
from governance.registry.selectors import get_model_for_user, models_for_list, models_visible_to, role_change_subjects
from governance.reports import charts
from governance.web import forms
from governance.web.reauth import authentication_record
from governance.web.uploads import uploads_panel_context


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        from governance.api.errors import api_not_found

        return api_not_found(request, exception)
    return render(request, "errors/404.html", status=404)


def server_error(request):
    if request.path.startswith("/api/"):
        from governance.api.errors import api_server_error

        return api_server_error(request)
    # No context processors: the database may be what failed.
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("errors/500.html").render())


def _version_for(user, name: str, number: int, action: str = Action.VIEW) -> ModelVersion:
    model = get_model_for_user(user, name, action)
    return get_object_or_404(
        ModelVersion.objects.select_related("model__team", "created_by"), model=model, version=number
    )


def _request_for(user, pk: int) -> PromotionRequest:
    request = get_object_or_404(
        PromotionRequest.objects.select_related("version__model__team", "requested_by", "policy_version__policy"), pk=pk
    )
    require(user, Action.VIEW, request.version.model)
    return request


# --- Inbox and lists -------------------------------------------------------------------


@login_required
def inbox(request):
    """The work queue: one tab (waiting for me, raised by me, open in my scope, recently
    decided) under the filters of the query string; an unknown value is a 400 naming it."""
    teams = Team.objects.filter(pk__in=models_visible_to(request.user).values("team_id")).order_by("name")
    form = forms.InboxFilterForm(request.GET, teams=list(teams.values_list("name", flat=True)))
    context = {"form": form, "tabs": INBOX_TABS, "tab": form.chosen_tab}
    if not form.is_valid():
        return render(request, "web/inbox.html", context, status=400)
    queue = inbox_tab(
        request.user, tab=form.chosen_tab, filters=form.filters(), now=timezone.now(), page=request.GET.get("page")
    )
    # The navigation shows the same count: no second computation.
    return render(request, "web/inbox.html", {**context, "queue": queue, "nav_inbox_count": queue.waiting_total})


@login_required
def model_list(request):
    form = forms.ModelFilterForm(request.GET or None)
    qs = models_for_list(request.user, **(form.cleaned_data if form.is_valid() else {}))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    teams = Team.objects.filter(pk__in=models_visible_to(request.user).values("team_id"))
    return render(
        request,
        "web/model_list.html",
        {"page": page, "form": form, "teams": teams, "tiers": RiskTier.choices, "stages": Stage.choices},
    )


@login_required
def model_detail(request, name):
    model = get_model_for_user(request.user, name)
    versions = list(model.versions.select_related("created_by").order_by("-version"))
    requests = list(
        PromotionRequest.objects.filter(version__model=model)
        .select_related("version", "requested_by")
        .order_by("-requested_at")[:50]
    )
    roles = roles_for_model(request.user, model)
    policy = policy_for_model(model)
    return render(
        request,
        "web/model_detail.html",
        {
            "model": model,
            "versions": versions,
            "requests": requests,
            "my_roles": sorted(roles),
            "policy": policy,
            "may_rollback": user_may(request.user, Action.ROLLBACK, model, roles=roles),
            "may_export": user_may(request.user, Action.EXPORT, model, roles=roles),
            "rollback_form": forms.RollbackForm(),
        },
    )


@login_required
@require_POST
def model_rollback(request, name):
    model = get_model_for_user(request.user, name, Action.ROLLBACK)
    form = forms.RollbackForm(request.POST)
    if form.is_valid():
        try:
            restored = promotions.promotion_rollback(user=request.user, model=model, **form.cleaned_data)
            messages.success(request, f"Rolled back: {restored} is in production again.")
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Give a reason to roll back.")
    return redirect("web:model_detail", name=model.name)


# --- Versions ----------------------------------------------------------------------------


@login_required
def version_detail(request, name, number):
    version = _version_for(request.user, name, number)
    model = version.model
    roles = roles_for_model(request.user, model)
    artifacts = list(
        Artifact.objects.filter(version=version).select_related("blob", "uploaded_by").order_by("kind", "-created_at")
    )
    current_docs = documents_current(version)
    completeness = documents_completeness(version, current_docs)
    production = model.versions.filter(stage=Stage.PRODUCTION).exclude(pk=version.pk).first()
    policy = policy_for_model(model)
    stages = next_stages(version.stage)
    promotion_form = forms.PromotionForm(
        initial={"to_stage": stages[0] if stages else None},
        bypassable=forms.bypassable_gates(policy.data if policy else None),
    )
    promotion_form.fields["to_stage"].choices = [(s, s) for s in stages]
    open_request = version.promotion_requests.filter(status__in=OPEN_STATUSES).first()
    return render(
        request,
        "web/version_detail.html",
        {
            "model": model,
            "version": version,
            "artifacts": artifacts,
            "documents": [
                (kind, label, current_docs.get(kind), completeness[kind]) for kind, label in DocumentKind.choices
            ],
            "production": production,
            "comparison": comparison_with_production(version),
            "policy": policy,
            "may_write": user_may(request.user, Action.REGISTER_VERSION, model, roles=roles),
            "may_export": user_may(request.user, Action.EXPORT, model, roles=roles),
            "may_dry_run": user_may(request.user, Action.DRY_RUN, model, roles=roles),
            "may_request": user_may(request.user, Action.REQUEST, model, roles=roles)
            and bool(stages)
            and open_request is None,
            "open_request": open_request,
            "promotion_form": promotion_form,
            "evidence_form": forms.EvidenceForm(),
            "dry_run_form": forms.DryRunForm(
                initial={"transition": f"{version.stage}->{stages[0]}" if stages else "staging->production"}
            ),
            "max_upload": settings.EVIDENCE_MAX_UPLOAD_BYTES,
            **uploads_panel_context(version),
        },
    )


@login_required
@require_POST
def version_request_promotion(request, name, number):
    version = _version_for(request.user, name, number, Action.REQUEST)
    policy = policy_for_model(version.model)
    form = forms.PromotionForm(request.POST, bypassable=forms.bypassable_gates(policy.data if policy else None))
    form.fields["to_stage"].choices = [(s, s) for s in Stage.values]
    if form.is_valid():
        values = dict(form.cleaned_data)
        values["bypass_gates"] = values["bypass_gates"] if values["change_type"] == "emergency" else None
        try:
            promotion = promotions.promotion_request(user=request.user, version=version, **values)
            messages.success(request, f"Promotion request #{promotion.pk} filed; gates are running.")
            return redirect("web:request_detail", pk=promotion.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(
            request, "Check the promotion form: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        )
    return redirect("web:version_detail", name=name, number=number)


@login_required
@require_POST
def version_upload_evidence(request, name, number):
    version = _version_for(request.user, name, number, Action.REGISTER_VERSION)
    back = redirect("web:version_detail", name=name, number=number)
    try:
        received = received_file(request)  # first: the upload handler streams, hashes and counts the file
    except DomainError as exc:
        messages.error(request, exc.message)
        return back
    form = forms.EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a kind and a file.")
        return back
    try:
        received_as = evidence_receive(
            user=request.user, version=version, kind=form.cleaned_data["kind"], **vars(received)
        )
        if isinstance(received_as, QueuedUpload):  # large: a worker parses it
            messages.info(
                request,
                f"{received_as.original_name} is large: a worker is checking it now. Follow it under "
                "Uploads in progress; it joins the Evidence once accepted.",
            )
            return redirect(reverse("web:version_detail", args=[name, number]) + "#uploads")  # the panel in view
        else:
            messages.success(
                request, f"Accepted {received_as.original_name} as {received_as.get_kind_display().lower()}."
            )
    except DomainError as exc:
        messages.error(request, f"{received.original_name} was not accepted: {exc}")
    return back


@login_required
def artifact_download(request, name, number, artifact_id):
    version = _version_for(request.user, name, number)
    artifact = get_object_or_404(Artifact.objects.select_related("blob"), pk=artifact_id, version=version)
    response = FileResponse(artifact.blob.file.open("rb"), as_attachment=True, filename=artifact.original_name)
    # Never rendered inline: an uploaded HTML file must not run in our origin.
    response["Content-Type"] = (
        artifact.content_type if artifact.content_type != "text/html" else "application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def artifact_detail(request, name, number, artifact_id):
    version = _version_for(request.user, name, number)
    artifact = get_object_or_404(
        Artifact.objects.select_related("blob", "uploaded_by"), pk=artifact_id, version=version
    )
    columns, rows = ([], [])
    chart_html = []
    if artifact.blob.columnar_file:
        try:
            path = columnar_local_path(artifact.blob)
            columns, rows = preview_rows(path, 20)
            chart_html = charts.artifact_charts_html(artifact, path)
        except (EvidenceError, OSError) as exc:
            messages.error(request, f"Preview unavailable: {exc}")
    return render(
        request,
        "web/artifact_detail.html",
        {
            "model": version.model,
            "version": version,
            "artifact": artifact,
            "columns": columns,
            "rows": rows,
            "charts": chart_html,
        },
    )


@login_required
def document_edit(request, name, number, kind):
    if kind not in DocumentKind.values:
        raise Http404("No such document kind.")
    version = _version_for(request.user, name, number)
    may_write = user_may(request.user, Action.REGISTER_VERSION, version.model)
    current = documents_current(version).get(kind)
    specs = document_fields(kind)
    errors: dict[str, str] = {}
    values = dict(current.fields) if current else {}
    content = current.content if current else ""
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied("Editing documents needs the model_owner or mlops role.")
        values = {spec.name: request.POST.get(spec.name, "") for spec in specs}
        content = request.POST.get("content", "")
        try:
            document_save(user=request.user, version=version, kind=kind, fields=values, content=content)
            messages.success(request, f"{DocumentKind(kind).label} saved as a new revision.")
            return redirect("web:version_detail", name=name, number=number)
        except DocumentError as exc:
            errors = exc.errors
    return render(
        request,
        "web/document_edit.html",
        {
            "model": version.model,
            "version": version,
            "kind": kind,
            "kind_label": DocumentKind(kind).label,
            "fields": [(spec, values.get(spec.name, ""), errors.get(spec.name)) for spec in specs],
            "content": content,
            "errors": errors,
            "current": current,
            "may_write": may_write,
        },
    )


@login_required
def model_card(request, name, number):
    version = _version_for(request.user, name, number)
    docs = documents_current(version)
    card = docs.get(DocumentKind.MODEL_CARD)
    completeness = documents_completeness(version, docs)
    sections = []
    for kind, label in DocumentKind.choices:
        doc = docs.get(kind)
        if doc is None:
            continue
        sections.append(
            {
                "kind": kind,
                "label": label,
                "doc": doc,
                "fields": [(spec.label, doc.fields.get(spec.name, "")) for spec in document_fields(kind)],
                "content_html": render_markdown(doc.content) if doc.content else "",
                "missing": completeness[kind]["missing_fields"],
            }
        )
    return render(
        request,
        "web/model_card.html",
        {"model": version.model, "version": version, "card": card, "sections": sections, "completeness": completeness},
    )


# --- Requests ----------------------------------------------------------------------------


def _gate_panel_context(
    promotion: PromotionRequest, user=None, accept_form=None, accept_gate: str = "", http_request=None, seen=None
) -> dict:
    """What the live gate panel needs, and nothing more: htmx polls it every 2 s. Once the
    gates are final, each says who accepted it or who may, with the Accept form for them.
    `seen`: the request page's `RequestForUser` (slot state and roles already resolved)."""
    gate_runs = list(promotion.gate_runs.current())
    running = any(r.status in (GateStatus.PENDING, GateStatus.RUNNING) for r in gate_runs)
    acceptances = {}
    if not running and any(r.status == GateStatus.INCONCLUSIVE for r in gate_runs):
        if seen is None:
            acceptances = gate_acceptance_views(user, promotion, gate_runs, request_slot_state(promotion))
        else:
            acceptances = gate_acceptance_views(user, promotion, gate_runs, seen.slot_state, seen.roles)
    return {
        "promotion": promotion,
        "gate_runs": gate_runs,
        "gates_running": running,
        "gate_charts": {r.pk: charts.gate_chart_html(r.outcome) for r in gate_runs if r.outcome},
        "gate_acceptances": acceptances,
        "accept_forms": {
            gid: accept_form if gid == accept_gate else forms.gate_accept_form_for(http_request, promotion, gid)
            for gid in acceptances
        },
    }


# What the request page shows besides the request's model, team, requester and decisions.
_REQUEST_PAGE_RELATED = ("version__created_by", "policy_version__policy")


def _request_context(
    request, promotion: PromotionRequest | int, decision_form=None, review_form=None, accept_form=None, accept_gate=""
) -> dict:
    """The request page, read fresh; the user's roles on the model are resolved once
    (`request_for_user`) for the view check and every rule the page asks."""
    seen = request_for_user(
        request.user, promotion if isinstance(promotion, int) else promotion.pk, _REQUEST_PAGE_RELATED
    )
    promotion, state, roles, right = seen.request, seen.slot_state, seen.roles, seen.right
    model = promotion.version.model
    gates = _gate_panel_context(promotion, request.user, accept_form, accept_gate, http_request=request, seen=seen)
    # What changed since each stale approval was given (the current manifest: three queries).
    stale = [d for d, _ in state.stale if d.round < promotion.gate_round]
    now = request_manifest(promotion) if stale else {}
    return {
        **gates,
        "model": model,
        "version": promotion.version,
        "slot_state": state,
        "decision_changes": {d.pk: manifest_changes(d.manifest, now) for d in stale},
        **_emergency_context(request, promotion, roles, review_form),
        "may_resubmit": promotion.status == "changes_requested"
        and (
            request.user.pk == promotion.requested_by_id or user_may(request.user, Action.REQUEST, model, roles=roles)
        ),
        "may_decide": right.may_decide,
        "may_export": user_may(request.user, Action.EXPORT, model, roles=roles),
        "why_not": right.why_not if promotion.is_open else "",
        "may_cancel": promotion.is_open
        and (request.user.pk == promotion.requested_by_id or user_may(request.user, Action.CANCEL, model, roles=roles)),
        "decision_form": decision_form or forms.decision_form_for(request, promotion, right),
        # What the approvers compare against: frozen when the request was filed.
        "comparison": promotion.comparison or comparison_with_production(promotion.version),
        "metric_disagreements": disagreements(
            declared_metrics(promotion.version), [run.outcome for run in gates["gate_runs"] if run.outcome]
        ),
        "completeness": documents_completeness(promotion.version),
    }


@login_required
def request_detail(request, pk):
    return render(request, "web/request_detail.html", _request_context(request, pk))


@login_required
def request_gates(request, pk):
    """The live gate panel (htmx polls it while gates run): gates only, no page, no nav."""
    promotion = _request_for(request.user, pk)
    context = _gate_panel_context(promotion, request.user, http_request=request)
    # Rendered without context processors: the poll must not recompute the nav inbox.
    response = HttpResponse(render_to_string("web/_gates.html", {**context, "request": request}))
    if request.headers.get("HX-Request") and not context["gates_running"] and promotion.status != "awaiting_gates":
        response["HX-Refresh"] = "true"  # gates done: reload so approvals and the decision form are current
    return response


@login_required
@require_POST
def request_decide(request, pk):
    promotion = _request_for(request.user, pk)
    form = forms.decision_form_for(request, promotion, decision_right_for(request.user, promotion), request.POST)
    if form.is_valid():
        if form.reauthenticated:
            authentication_record(request.session)  # the password was right: a fresh sign-in
        data = form.cleaned_data
        try:
            promotions.promotion_decide(
                user=request.user,
                request=promotion,
                decision=data["decision"],
                reason=data["reason"],
                risk_class=data["risk_class"],
                ticket_id=data["ticket_id"],
                role=data["role"] or None,
            )
            messages.success(request, "Your decision is recorded.")
            return redirect("web:request_detail", pk=pk)
        except DomainError as exc:
            forms.add_domain_error(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
    return render(request, "web/request_detail.html", _request_context(request, promotion, form), status=400)


@login_required
@require_POST
def request_gate_accept(request, pk, gate_id):
    """Accept an inconclusive gate (policy accept_by) with a reason; errors stay on its form."""
    promotion = _request_for(request.user, pk)
    form = forms.gate_accept_form_for(request, promotion, gate_id, request.POST)
    if form.is_valid():
        if form.reauthenticated:
            authentication_record(request.session)  # the password was right: a fresh sign-in
        try:
            promotions.promotion_gate_accept(user=request.user, request=promotion, gate_id=gate_id, **form.sign_off())
            messages.success(request, f"You accepted the inconclusive gate {gate_id}.")
            return redirect("web:request_detail", pk=pk)
        except DomainError as exc:
            forms.add_domain_error(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
    context = _request_context(request, promotion, accept_form=form, accept_gate=gate_id)
    return render(request, "web/request_detail.html", context, status=400)


def _emergency_context(request, promotion: PromotionRequest, roles: set[str], review_form=None) -> dict:
    if promotion.change_type != "emergency":
        return {}
    review = PostIncidentReview.objects.filter(request=promotion).prefetch_related("assignees").first()
    return {
        "review": review,
        "review_overdue": bool(review and review.is_overdue(timezone.now())),
        "may_review": bool(review and review.submitted_at is None)
        and (any(u.pk == request.user.pk for u in review.assignees.all()) or request.user.is_staff),
        "review_form": review_form or forms.ReviewForm(),
        "may_recheck": promotion.status == "promoted"
        and not (promotion.bypass_resolved_at or promotion.reverted_at)
        and user_may(request.user, Action.REQUEST, promotion.version.model, roles=roles),
    }


def _request_action(request, pk: int, act, done: str):
    """POST, one service call, a message, back to the request page. A refused change is a
    message there; a user without the right gets the 403 page."""
    promotion = _request_for(request.user, pk)
    try:
        act(promotion)
        messages.success(request, done)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("web:request_detail", pk=pk)


@login_required
@require_POST
def request_bypass_recheck(request, pk):
    return _request_action(
        request,
        pk,
        lambda promotion: promotions.promotion_bypass_recheck(user=request.user, request=promotion),
        "The bypassed gates are running on the current evidence.",
    )


@login_required
@require_POST
def request_review(request, pk):
    promotion = _request_for(request.user, pk)
    form = forms.ReviewForm(request.POST)
    if form.is_valid():
        try:
            review_submit(user=request.user, request=promotion, **form.cleaned_data)
            messages.success(request, "Post-incident review submitted.")
            return redirect("web:request_detail", pk=pk)
        except DomainError as exc:
            forms.add_domain_error(form, exc)
    return render(
        request, "web/request_detail.html", _request_context(request, promotion, review_form=form), status=400
    )


@login_required
@require_POST
def request_resubmit(request, pk):
    note = request.POST.get("note", "")
    return _request_action(
        request,
        pk,
        lambda promotion: promotions.promotion_resubmit(user=request.user, request=promotion, note=note),
        "Resubmitted: the gates run again on the evidence as it is now.",
    )


@login_required
@require_POST
def request_cancel(request, pk):
    form = forms.CancelForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    return _request_action(
        request,
        pk,
        lambda promotion: promotions.promotion_cancel(user=request.user, request=promotion, reason=reason),
        "Request cancelled.",
    )


@login_required
def request_status_json(request, pk):
    promotion = _request_for(request.user, pk)
    return JsonResponse({"id": promotion.pk, "status": promotion.status})


# --- Policies ----------------------------------------------------------------------------


@login_required
def policy_list(request):
    policies = Policy.objects.select_related("current_version__author").order_by("name")
    return render(
        request, "web/policy_list.html", {"policies": policies, "may_manage": user_may_manage_policies(request.user)}
    )


@login_required
def policy_detail(request, name, number=None):
    policy = get_object_or_404(Policy, name=name)
    versions = list(policy.versions.select_related("author").order_by("-number"))
    version = next((v for v in versions if v.number == number), None) if number else policy.current_version
    if version is None:
        raise Http404("No such policy version.")
    previous = next((v for v in versions if v.number == version.number - 1), None)
    return render(
        request,
        "web/policy_detail.html",
        {
            "policy": policy,
            "version": version,
            "versions": versions,
            "diff": policy_diff(previous, version),
            "may_manage": user_may_manage_policies(request.user),
        },
    )


@login_required
def policy_edit(request, name=None):
    if not user_may_manage_policies(request.user):
        raise PermissionDenied("Editing policies needs the manage-policy permission.")
    policy = get_object_or_404(Policy, name=name) if name else None
    initial = {"content": policy.current_version.content} if policy and policy.current_version else {}
    form = forms.PolicyForm(request.POST or None, initial=initial)
    issues = []
    if request.method == "POST" and form.is_valid():
        try:
            version = policy_publish(
                text=form.cleaned_data["content"], author=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(request, f"Published {version.policy.name} v{version.number} ({version.sha256[:12]}).")
            return redirect("web:policy_detail", name=version.policy.name)
        except PolicyError as exc:
            issues = [str(issue) for issue in exc.issues]
            form.add_error("content", f"{len(issues)} problem(s); nothing was saved.")
    return render(request, "web/policy_edit.html", {"form": form, "policy": policy, "issues": issues})


# --- Roles (admins) ----------------------------------------------------------------------


@login_required
def role_list(request):
    if not user_may_manage_roles(request.user):
        raise PermissionDenied("Managing roles is for admins.")
    form = forms.RoleChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kind, _, name = data["scope"].partition(":")
        try:
            user, team, model = role_change_subjects(
                username=data["username"], team=name if kind == "team" else "", model=name if kind == "model" else ""
            )
            change = role_grant if data["action"] == "grant" else role_revoke
            change(actor=request.user, user=user, role=data["role"], team=team, model=model)
            verb = "Granted" if data["action"] == "grant" else "Revoked"
            messages.success(request, f"{verb} {data['role'].replace('_', ' ')} for {user} on {kind} {name}.")
            return redirect("web:role_list")
        except DomainError as exc:
            forms.add_domain_error(form, exc, rename={"user": "username", "team": "scope", "model": "scope"})
    holdings = role_holdings()
    scopes = [f"team:{t.name}" for t in Team.objects.order_by("name")] + [
        f"model:{m}" for m in RegisteredModel.objects.order_by("name").values_list("name", flat=True)
    ]
    users = get_user_model().objects.filter(is_active=True).order_by("username").values_list("username", flat=True)
    return render(
        request,
        "web/role_list.html",
        {
            "form": form,
            "team_grants": [h for h in holdings if h.scope == "team"],
            "model_grants": [h for h in holdings if h.scope == "model"],
            "scopes": scopes,
            "users": users,
        },
        status=400 if request.method == "POST" else 200,
    )
