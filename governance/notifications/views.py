"""The logged-in person's email preference: one page, GET shows it, POST saves it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from governance.notifications import services
from governance.notifications.forms import PreferenceForm
from governance.notifications.models import EmailPreference

SAVED = {
    EmailPreference.IMMEDIATELY: "Saved: you get an email as each event happens.",
    EmailPreference.DAILY_DIGEST: "Saved: you get one daily digest.",
    EmailPreference.OFF: "Saved: no emails, except escalations.",
}


@login_required
def preferences(request):
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            services.preference_set(user=request.user, email=form.cleaned_data["email"])
            messages.success(request, SAVED[form.cleaned_data["email"]])
            return redirect("notifications:preferences")
    else:
        form = PreferenceForm(initial={"email": services.preference_get(user=request.user)})
    context = {"form": form, "digest_hour": settings.NOTIFICATIONS_DIGEST_HOUR, "time_zone": settings.TIME_ZONE}
    return render(request, "notifications/preferences.html", context)
