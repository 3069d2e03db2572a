from __future__ import annotations

from django import forms

from governance.notifications.models import EmailPreference


class PreferenceForm(forms.Form):
    email = forms.ChoiceField(choices=EmailPreference.choices, widget=forms.RadioSelect, label="Send me emails")
