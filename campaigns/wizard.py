"""The 5-step campaign wizard: plain forms and POSTs, state kept in the session.

Back and Next both save what was typed on the current step, so nothing is lost when the
user moves around; only Next (and Create) validate. Works without JavaScript.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns import lifecycle
from campaigns.access import require_to_create
from campaigns.forms import (
    CampaignDpiForm,
    CampaignGeneralForm,
    CampaignLanguageForm,
    CampaignTemplateForm,
)
from campaigns.models import DPI_COST_FACTOR, CampaignType, Dpi, Language
from campaigns.services import quota_balance
from campaigns.views import render_page, writer_access

SESSION_KEY = "campaign_wizard"


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form_class: type | None


STEPS = [
    Step("general", gettext_lazy("General information"), CampaignGeneralForm),
    Step("language", gettext_lazy("Language"), CampaignLanguageForm),
    Step("template", gettext_lazy("Template"), CampaignTemplateForm),
    Step("dpi", gettext_lazy("Resolution"), CampaignDpiForm),
    Step("review", gettext_lazy("Review"), None),
]
STEP_INDEX = {step.slug: i for i, step in enumerate(STEPS)}
FORM_STEPS = [step for step in STEPS if step.form_class]
# Where an error raised by campaign_create about a field is shown.
FIELD_STEP = {name: step.slug for step in FORM_STEPS for name in step.form_class.base_fields}


def _state(request, program):
    state = request.session.get(SESSION_KEY)
    # A wizard started for another program starts over rather than leak across programs.
    if not state or state.get("program_id") != program.pk:
        state = {"program_id": program.pk, "steps": {}}
    return state


def _save_state(request, state):
    request.session[SESSION_KEY] = state
    request.session.modified = True


def _defaults(request, step, state):
    if step.slug == "language":
        ui_language = getattr(request, "LANGUAGE_CODE", "fr")
        return {"language": ui_language if ui_language in Language.values else Language.FR}
    if step.slug == "template":
        # The Card Studio template of the chosen type is the natural first choice.
        return {"template_id": state["steps"].get("general", {}).get("campaign_type", "")}
    if step.slug == "dpi":
        return {"dpi": str(Dpi.DPI_300)}
    return {}


def _bound_form(step, state):
    return step.form_class(data=state["steps"].get(step.slug) or {})


def _validated(state, before):
    """(cleaned data of the steps before `before`, the first of them that does not validate
    or None). Saved data is checked again each time: a prefix can be taken meanwhile."""
    cleaned = {}
    for step in FORM_STEPS[: STEP_INDEX[before.slug]]:
        form = _bound_form(step, state)
        if not form.is_valid():
            return cleaned, step
        cleaned.update(form.cleaned_data)
    return cleaned, None


def _first_unfinished(state, before):
    return _validated(state, before)[1]


def _remember(state, step, post):
    typed = {name: post.get(name, "") for name in step.form_class.base_fields}
    previous = state["steps"].get(step.slug, {})
    if step.slug == "general" and previous.get("campaign_type") != typed["campaign_type"]:
        # A new type means a new default template; drop a choice made for the old type.
        state["steps"].pop("template", None)
    state["steps"][step.slug] = typed


def _step_url(step):
    return reverse("campaign-wizard-step", kwargs={"step": step.slug})


def _unfinished_url(step):
    # A prefix taken meanwhile makes a finished step invalid again: show why on arrival.
    return _step_url(step) + "?check=1"


@login_required
def campaign_wizard_start(request):
    return redirect(_step_url(STEPS[0]))


@login_required
def campaign_wizard(request, step):
    access = writer_access(request)
    if step not in STEP_INDEX:
        raise Http404
    current = STEPS[STEP_INDEX[step]]
    state = _state(request, access.program)
    action = request.POST.get("action", "next") if request.method == "POST" else None

    if action == "reset":
        request.session.pop(SESSION_KEY, None)
        return redirect(_step_url(STEPS[0]))
    if current.form_class is None:
        return _review(request, access, state, action)

    if action:
        _remember(state, current, request.POST)
        _save_state(request, state)
        if action == "back":
            return redirect(_step_url(STEPS[max(STEP_INDEX[step] - 1, 0)]))
        form = current.form_class(data=request.POST)
        if form.is_valid():
            # Keep the cleaned values (e.g. the prefix upper-cased) for when the user returns.
            state["steps"][step] = {name: str(value) for name, value in form.cleaned_data.items()}
            _save_state(request, state)
            return redirect(_step_url(STEPS[STEP_INDEX[step] + 1]))
    else:
        unfinished = _first_unfinished(state, before=current)
        if unfinished is not None:
            return redirect(_unfinished_url(unfinished))
        if request.GET.get("check") and step in state["steps"]:
            # Sent back here from a later step: say what is wrong with what was saved.
            form = _bound_form(current, state)
            form.is_valid()
        else:
            form = current.form_class(
                initial=state["steps"].get(step) or _defaults(request, current, state)
            )
    return _render_step(request, current, form, state)


def _render_step(request, step, form, state):
    general = state["steps"].get("general", {})
    context = {
        "steps": STEPS,
        "step": step,
        "step_number": STEP_INDEX[step.slug] + 1,
        "form": form,
        "chosen_type": general.get("campaign_type", ""),
        "chosen_prefix": general.get("prefix", "").strip().upper(),
        # The template step shows each template's sample card in the language of the cards.
        "chosen_language": state["steps"].get("language", {}).get("language") or Language.FR,
        "previous_step": STEPS[STEP_INDEX[step.slug] - 1] if STEP_INDEX[step.slug] else None,
    }
    if step.slug == "dpi":
        options = CampaignDpiForm.options()
        # Radio widgets paired with their cost, so the template needs no lookups.
        context["dpi_choices"] = [
            (radio, options[int(radio.data["value"])]) for radio in form["dpi"]
        ]
    return render_page(request, "campaigns/wizard.html", context)


def _summary(cleaned):
    return {
        **cleaned,
        "campaign_type_label": CampaignType(cleaned["campaign_type"]).label,
        "language_label": Language(cleaned["language"]).label,
        "template_label": CampaignType(cleaned["template_id"]).label,
        "dpi_factor": DPI_COST_FACTOR[cleaned["dpi"]],
    }


def _draft_readiness(summary, balance):
    """What the campaign will have on creation and what it will still need, in the same
    shape as campaigns.readiness.campaign_readiness so one template shows both."""
    checks = [
        {
            "key": "details",
            "label": _("Name, type and prefix"),
            "status": "ready",
            "detail": f"{summary['name']} · {summary['prefix']}",
        },
        {
            "key": "template",
            "label": _("Card template"),
            "status": "ready",
            "detail": summary["template_label"],
        },
        {
            "key": "beneficiaries",
            "label": _("Beneficiaries"),
            "status": "missing",
            "detail": _("Import a CSV file on the campaign page once it is created."),
        },
    ]
    if balance > 0:
        checks.append(
            {
                "key": "quota",
                "label": _("Quota"),
                "status": "ready",
                "detail": _("%(units)s units available") % {"units": balance},
            }
        )
    else:
        checks.append(
            {
                "key": "quota",
                "label": _("Quota"),
                "status": "warning",
                "detail": _("No quota left: ask your administrator for more units."),
            }
        )
    return checks


def _review(request, access, state, action):
    cleaned, unfinished = _validated(state, before=STEPS[-1])
    if unfinished is not None:
        return redirect(_unfinished_url(unfinished))
    if action == "back":
        return redirect(_step_url(STEPS[-2]))
    summary = _summary(cleaned)
    errors = []
    if action == "create":
        require_to_create(access, campaign_type=summary["campaign_type"],
                          sensitive=summary.get("sensitive"))
        try:
            campaign = lifecycle.campaign_create(
                program=access.program,
                user=request.user,
                name=summary["name"],
                campaign_type=summary["campaign_type"],
                prefix=summary["prefix"],
                language=summary["language"],
                template_id=summary["template_id"],
                description=summary["description"],
                dpi=summary["dpi"],
                sensitive=summary.get("sensitive") or None,  # None: as the type says
            )
        except ValidationError as exc:
            response = _render_create_errors(request, state, exc)
            if response is not None:
                return response
            errors = exc.messages
        else:
            request.session.pop(SESSION_KEY, None)
            messages.success(request, _("Campaign “%(name)s” created.") % {"name": campaign.name})
            return redirect("campaign-detail", pk=campaign.pk)
    context = {
        "steps": STEPS,
        "step": STEPS[-1],
        "step_number": len(STEPS),
        "previous_step": STEPS[-2],
        "summary": summary,
        "checks": _draft_readiness(summary, quota_balance(program=access.program)),
        "errors": errors,
    }
    return render_page(request, "campaigns/wizard.html", context)


def _render_create_errors(request, state, exc):
    """Show a field error raised at creation beside its field, on the step that holds it."""
    if not hasattr(exc, "error_dict"):
        return None
    for step in FORM_STEPS:
        fields = [name for name in exc.error_dict if FIELD_STEP.get(name) == step.slug]
        if fields:
            form = _bound_form(step, state)
            form.is_valid()
            for name in fields:
                for text in ValidationError(exc.error_dict[name]).messages:
                    # The form's own check may already say the same (a prefix taken).
                    if text not in form.errors.get(name, []):
                        form.add_error(name, text)
            return _render_step(request, step, form, state)
    return None
