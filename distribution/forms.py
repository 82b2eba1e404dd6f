"""Forms of the distribution pages: a dispatch's plan, a message template, a provider's
settings, a test send, one card sent to one person."""

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import Language
from distribution import integrations
from distribution.dispatch import runs
from distribution.message_templates import MAX_LENGTH, template_problems
from distribution.models import ChannelCode

WEEKDAY_LABELS = [(str(i), label) for i, label in enumerate(
    [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
)]


def weekday_labels(weekdays):
    """Weekday numbers (0 = Monday) as their short names in the user's language."""
    return [str(WEEKDAY_LABELS[day][1]) for day in sorted(weekdays)]


class DispatchForm(forms.Form):
    first_channel = forms.ChoiceField(label=_("Send over"), choices=ChannelCode.choices)
    fallback_channel = forms.ChoiceField(
        label=_("Then, if it fails"), required=False,
        choices=[("", _("No second channel")), *ChannelCode.choices],
    )
    fallback_after_attempts = forms.IntegerField(
        label=_("Switch after this many failed attempts"), min_value=1, max_value=10, initial=2)
    max_attempts = forms.IntegerField(label=_("Attempts per person, at most"), min_value=1,
                                      max_value=10, initial=3)
    retry_delays = forms.CharField(
        label=_("Wait before each retry (seconds)"), initial="60, 300, 900",
        help_text=_("Comma-separated; the last one repeats. Throttling by the provider does "
                    "not use an attempt."))
    window_start = forms.TimeField(label=_("Send from"), initial="07:00",
                                   widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    window_end = forms.TimeField(label=_("Until"), initial="21:00",
                                 help_text=_("00:00 is midnight."),
                                 widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    weekdays = forms.MultipleChoiceField(
        label=_("On"), choices=WEEKDAY_LABELS, initial=["0", "1", "2", "3", "4"],
        widget=forms.CheckboxSelectMultiple)
    rate_limit_per_second = forms.IntegerField(
        label=_("Messages per second, at most"), min_value=1, max_value=runs.MAX_RATE,
        initial=20)

    def clean_retry_delays(self):
        parts = [p.strip() for p in self.cleaned_data["retry_delays"].split(",") if p.strip()]
        if len(parts) > 10 or not all(p.isdigit() for p in parts):
            raise forms.ValidationError(_("Up to 10 whole numbers of seconds, e.g. 60, 300."))
        return [int(p) for p in parts]

    def clean_weekdays(self):
        return [int(d) for d in self.cleaned_data["weekdays"]]

    def plan(self):
        return dict(self.cleaned_data)


class TemplateForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    body = forms.CharField(
        label=_("Message"), max_length=MAX_LENGTH, strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "data-template-body": ""}),
        help_text=_("Variables: {first_name} {last_name} {card_code} {programme_name} "
                    "{issue_date} {card_link} {verification_url}"))

    def clean_body(self):
        body = self.cleaned_data["body"].replace("\r\n", "\n").strip()
        problems = template_problems(body)
        if problems:
            raise forms.ValidationError(problems)
        return body


class IntegrationForm(forms.Form):
    """One provider's settings; secrets are never shown back (leave blank to keep them)."""

    enabled = forms.BooleanField(label=_("Enabled"), required=False)

    def __init__(self, *args, channel, stored=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        stored = stored or {}
        for spec in integrations.fields(channel):
            label = spec.label or spec.name.replace("_", " ").capitalize()
            if spec.name == "private_key":
                # A PEM keeps its line breaks only in a textarea (an input drops them).
                field = forms.CharField(
                    label=label, required=False, widget=forms.Textarea(attrs={
                        "rows": 4, "autocomplete": "off",
                        "placeholder": stored.get(spec.name) or "-----BEGIN PRIVATE KEY-----",
                    }),
                    help_text=_("Saved: leave blank to keep it.") if stored.get(spec.name)
                    else "",
                )
            elif spec.secret:
                field = forms.CharField(
                    label=label, required=False, strip=True,
                    widget=forms.PasswordInput(render_value=False, attrs={
                        "autocomplete": "new-password",
                        "placeholder": stored.get(spec.name) or "",
                    }),
                    help_text=_("Saved: leave blank to keep it.") if stored.get(spec.name)
                    else "",
                )
            else:
                field = forms.CharField(label=label, required=False, initial=stored.get(spec.name),
                                        help_text=spec.hint)
            self.fields[spec.name] = field

    def config(self):
        return {name: value for name, value in self.cleaned_data.items() if name != "enabled"}


class IntegrationTestForm(forms.Form):
    phone_number = forms.CharField(label=_("Send a test to"), required=False, max_length=30)


class SendForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=ChannelCode.choices,
                                widget=forms.RadioSelect)
    phone_number = forms.CharField(
        label=_("Phone number"), required=False, max_length=30,
        help_text=_("Leave blank to use the beneficiary's number."))
    message = forms.CharField(
        label=_("Message"), max_length=MAX_LENGTH, strip=False,
        widget=forms.Textarea(attrs={"rows": 4}))
    send_now = forms.BooleanField(
        label=_("Send now, even outside the sending hours"), required=False,
        help_text=_("Otherwise an SMS or WhatsApp message asked for outside the sending hours "
                    "waits for their opening."))

    def clean_message(self):
        body = self.cleaned_data["message"].replace("\r\n", "\n").strip()
        problems = template_problems(body)
        if problems:
            raise forms.ValidationError(problems)
        return body


