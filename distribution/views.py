"""Pages: a campaign's distribution (message, dispatch runs live, send log), the program's
provider settings, and sending one card to one beneficiary.

Every page asks the access seam (campaigns.access): another program's campaign is a 404, a
viewer may look but not send, and sensitive campaigns need the grant for anything here.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.access import Need, allows, campaign_for, object_for
from campaigns.models import Beneficiary, Campaign, Language
from campaigns.phones import mask_phone
from campaigns.views import pager, program_access, render_page, writer_access
from distribution import direct_send, integrations, message_templates, selectors
from distribution.api.logs import LogQuery
from distribution.api.templates import sms_preview
from distribution.dispatch import progress
from distribution.dispatch import runs as dispatch_runs
from distribution.dispatch.send_window import any_hour, program_zone
from distribution.forms import (
    DispatchForm,
    IntegrationForm,
    IntegrationTestForm,
    SendForm,
    TemplateForm,
    weekday_labels,
)
from distribution.models import ChannelCode, Dispatch, Message
from distribution.providers.error_labels import error_label
from distribution.providers.registry import PROVIDERS

LOG_ROWS_SHOWN = 50
LOGS_PER_PAGE = 50
# The logs page's filters, parsed by the log API's own serializer so page, API and CSV agree.
LOG_FILTERS = ("channel", "status", "campaign", "date_from", "date_to", "external_id")
ACTIONS = {
    "start": dispatch_runs.dispatch_start,
    "pause": dispatch_runs.dispatch_pause,
    "resume": dispatch_runs.dispatch_resume,
    "stop": dispatch_runs.dispatch_stop,
}




@login_required
def campaign_distribution(request, pk, *, dispatch_form=None, template_form=None, preview=None):
    access = program_access(request)
    # The page lists who was sent what: it needs what reading people needs.
    campaign = campaign_for(access, pk, Need.PEOPLE)
    language = (template_form.data.get("language") if template_form is not None
                and template_form.is_bound else campaign.language)
    if template_form is None:
        template_form = TemplateForm(initial={
            "language": language,
            "body": message_templates.template_body(campaign=campaign, language=language),
        })
    body = (template_form.cleaned_data["body"] if template_form.is_bound
            and template_form.is_valid() else template_form.initial.get("body", ""))
    configured = {
        channel: integrations.integration_view(program=access.program, channel=channel)
        for channel in ChannelCode.values
    }
    runs = list(campaign.dispatches.select_related("campaign__program")[:20])
    context = {
        "campaign": campaign,
        "dispatch_form": dispatch_form or DispatchForm(),
        "template_form": template_form,
        "templates": message_templates.templates_for(campaign=campaign),
        "preview": preview or (sms_preview(campaign=campaign, body=body)
                               if body and not message_templates.template_problems(body)
                               else None),
        "runs": [{"dispatch": run, "snapshot": progress.dispatch_snapshot(run),
                  "weekdays": weekday_labels(run.weekdays),
                  "any_hour": any_hour(run.window_start, run.window_end)} for run in runs],
        "channels": configured,
        "log": [selectors.log_row(m) for m in selectors.message_log(
            access=access, filters={"campaign": campaign.pk})[:LOG_ROWS_SHOWN]],
        "may_send": allows(access, Need.WRITE, campaign),
        "timezone": campaign.program.timezone,
    }
    return render_page(request, "distribution/campaign_distribution.html", context)


@login_required
def message_logs(request):
    """Distribution > Logs: every message of the program's campaigns, filtered and paged like
    the log API (same serializer, same selector), sensitive campaigns' rows left out for
    members without the grant; refreshed by static/js/logs.js while a dispatch runs."""
    access = program_access(request)
    raw = {name: request.GET[name] for name in LOG_FILTERS if request.GET.get(name, "") != ""}
    query = LogQuery(data=raw)
    errors = {}
    if not query.is_valid():
        # Drop what does not parse and say so; the other filters still apply.
        errors = {name: " ".join(str(e) for e in problems)
                  for name, problems in query.errors.items()}
        query = LogQuery(data={k: v for k, v in raw.items() if k not in errors})
        query.is_valid()
    filters = {k: v for k, v in query.validated_data.items() if k in LOG_FILTERS}
    try:
        page = min(max(int(request.GET.get("page", 1)), 1), 10**6)
    except ValueError:
        page = 1
    rows = selectors.message_log(access=access, filters=filters)
    offset = (page - 1) * LOGS_PER_PAGE
    shown = [selectors.log_row(m) for m in rows[offset:offset + LOGS_PER_PAGE]]
    total = rows.count()
    campaigns = _visible_campaigns(access)
    names = {c.pk: c.name for c in campaigns}
    for row in shown:
        row["campaign_name"] = names.get(row["campaign_id"], "")
    api_query = urlencode({k: v for k, v in raw.items() if k not in errors}, doseq=False)
    context = {
        "rows": shown,
        "total": total,
        "errors": errors,
        "values": raw,
        "campaigns": campaigns,
        "campaign_names": {str(pk): name for pk, name in names.items()},
        "channels": ChannelCode.choices,
        "statuses": Message.Status.choices,
        "csv_query": api_query,
        "live_query": urlencode({**{k: v for k, v in raw.items() if k not in errors},
                                 "limit": LOGS_PER_PAGE, "offset": offset}),
        "running": selectors.dispatches_running(program=access.program),
        "timezone": access.program.timezone,
        **pager(request.GET, page, has_next=offset + len(shown) < total),
    }
    return render_page(request, "distribution/logs.html", context)


def _visible_campaigns(access):
    """The campaigns the logs page offers as a filter: those whose people the caller may see
    (deleted ones too: their log stays readable)."""
    campaigns = Campaign.objects.for_program(access.program).order_by("name", "id")
    if not access.can_view_sensitive:
        campaigns = campaigns.filter(sensitive=False)
    return list(campaigns.only("id", "name"))


@login_required
@require_POST
def dispatch_create(request, pk):
    campaign = campaign_for(program_access(request), pk, Need.WRITE)
    form = DispatchForm(data=request.POST)
    if form.is_valid():
        try:
            run = dispatch_runs.dispatch_create(campaign=campaign, user=request.user, **form.plan())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Dispatch %(id)s is ready: check it, then start it.")
                             % {"id": run.pk})
            return redirect(reverse("campaign-distribution", args=[campaign.pk])
                            + f"#dispatch-{run.pk}")
    return campaign_distribution(request, pk, dispatch_form=form)


@login_required
@require_POST
def template_save(request, pk):
    campaign = campaign_for(program_access(request), pk, Need.WRITE)
    form = TemplateForm(data=request.POST)
    if form.is_valid() and request.POST.get("action") != "preview":
        if request.POST.get("action") == "reset":
            message_templates.template_reset(campaign=campaign,
                                             language=form.cleaned_data["language"])
            messages.success(request, _("The default message is back."))
        else:
            message_templates.template_save(campaign=campaign, **form.cleaned_data)
            messages.success(request, _("Message saved."))
        return redirect(reverse("campaign-distribution", args=[campaign.pk]) + "#message")
    return campaign_distribution(request, pk, template_form=form)


@login_required
@require_POST
def dispatch_action(request, pk, action):
    run = object_for(program_access(request),
                     Dispatch.objects.select_related("campaign__program"), Need.WRITE, pk=pk)
    try:
        ACTIONS[action](dispatch=run)
    except dispatch_runs.DispatchConflict as exc:
        messages.error(request, str(exc))
    return redirect(reverse("campaign-distribution", args=[run.campaign_id])
                    + f"#dispatch-{run.pk}")


@login_required
def integration_settings(request, *, forms_by_channel=None, test_results=None):
    access = program_access(request)
    sections = []
    for channel, spec in PROVIDERS.items():
        view = integrations.integration_view(program=access.program, channel=channel)
        form = (forms_by_channel or {}).get(channel) or IntegrationForm(
            channel=channel, stored=view["config"], initial={"enabled": view["enabled"]})
        integration = integrations.integration_get(program=access.program, channel=channel)
        sections.append({
            "channel": channel, "label": ChannelCode(channel).label, "view": view, "form": form,
            "test_form": IntegrationTestForm(),
            "test_result": (test_results or {}).get(channel),
            "webhook": request.build_absolute_uri(
                reverse(spec.webhook_url_name, args=[integration.webhook_token]))
            if spec.webhook_url_name and integration and access.is_admin else "",
        })
    return render_page(request, "distribution/integrations.html", {
        "sections": sections,
        "whatsapp_webhook": request.build_absolute_uri(reverse("webhook-whatsapp")),
    })


@login_required
@require_POST
def integration_save(request, channel):
    access = program_access(request)
    if not access.is_admin:
        raise PermissionDenied(_("Only a program admin can change provider settings."))
    stored = integrations.integration_view(program=access.program, channel=channel)["config"]
    form = IntegrationForm(data=request.POST, channel=channel, stored=stored)
    if form.is_valid():
        try:
            integrations.integration_save(program=access.program, channel=channel,
                                          config=form.config(),
                                          enabled=form.cleaned_data["enabled"])
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                field = name.removeprefix("config.")
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("%(channel)s settings saved.")
                             % {"channel": ChannelCode(channel).label})
            return redirect(reverse("integration-settings") + f"#{channel}")
    return integration_settings(request, forms_by_channel={channel: form})


@login_required
@require_POST
def integration_test(request, channel):
    access = writer_access(request)
    form = IntegrationTestForm(data=request.POST)
    form.is_valid()
    try:
        result = integrations.integration_test(
            program=access.program, channel=channel,
            phone_number=form.cleaned_data.get("phone_number", ""))
        verdict = {"ok": result.ok, "detail": result.detail or result.provider_message_id,
                   "error_code": result.error_code, "link": result.link,
                   "error_label": error_label(result.error_code)}
    except ValidationError as exc:
        verdict = {"ok": False, "detail": " ".join(exc.messages), "error_code": "", "link": ""}
    except integrations.IntegrationNotConfigured as exc:
        verdict = {"ok": False, "detail": str(exc), "error_code": "", "link": ""}
    return integration_settings(request, test_results={channel: verdict})


@login_required
def beneficiary_send(request, pk, beneficiary_id):
    campaign = campaign_for(program_access(request), pk, Need.WRITE)
    beneficiary = get_object_or_404(Beneficiary.objects.filter(campaign=campaign),
                                    pk=beneficiary_id)
    card = direct_send.current_card(beneficiary)
    result = message = scheduled_for = None
    if request.method == "POST":
        form = SendForm(data=request.POST)
        if form.is_valid():
            try:
                message, result = direct_send.card_send(
                    beneficiary=beneficiary, channel=form.cleaned_data["channel"],
                    phone_number=form.cleaned_data["phone_number"],
                    text=form.cleaned_data["message"],
                    send_now=form.cleaned_data["send_now"],
                )
                if isinstance(result, direct_send.Scheduled):
                    zone = program_zone(campaign.program)
                    scheduled_for = {
                        "when": timezone.localtime(result.at, zone).strftime("%d/%m/%Y %H:%M"),
                        "zone": str(zone)}
                    result = None
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            except (direct_send.SendRefused, direct_send.SendInProgress,
                    integrations.IntegrationNotConfigured) as exc:
                form.add_error(None, str(exc))
    else:
        channel = next((code for code, spec in PROVIDERS.items()
                        if getattr(beneficiary, spec.consent_field)), ChannelCode.SMS)
        form = SendForm(initial={"channel": channel, "message": message_templates.template_body(
            campaign=campaign)})
    return render_page(request, "distribution/send.html", {
        "campaign": campaign, "beneficiary": beneficiary, "card": card,
        "phone": mask_phone(beneficiary.phone), "form": form, "result": result,
        "scheduled_for": scheduled_for,
        "message": selectors.log_row(message) if message else None,
        "languages": Language.choices,
    })
