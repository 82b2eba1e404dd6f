"""DHIS2 pages: the program's connection (with "Test connection"), and a campaign's DHIS2
page: its program, org unit and attribute mapping chosen from lists fetched from DHIS2, the
"Import from DHIS2" button, the live progress of the current sync and the sync history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.access import Need, allows, campaign_for
from campaigns.dhis2 import connection, mapping, sync
from campaigns.dhis2.client import Dhis2Error, check_uid
from campaigns.dhis2.events import run_snapshot
from campaigns.dhis2.forms import ConnectionForm, LinkForm, add_service_errors
from campaigns.views import program_access, render_page, writer_access

HISTORY_SHOWN = 20


@login_required
def connection_settings(request):
    access = program_access(request)
    view = connection.connection_view(program=access.program)
    if request.method == "POST":
        if not access.is_admin:
            raise PermissionDenied(_("Only a program admin can change the DHIS2 connection."))
        form = ConnectionForm(data=request.POST, masked=view["config"])
        if form.is_valid():
            try:
                connection.connection_save(program=access.program, config=form.config(),
                                           enabled=form.cleaned_data["enabled"])
            except ValidationError as exc:
                add_service_errors(form, exc, prefix_map={"config.": ""})
            else:
                messages.success(request, _("The DHIS2 connection was saved."))
                return redirect(_next_or(request, reverse("dhis2-connection")))
    else:
        config = view["config"]
        form = ConnectionForm(
            initial={"base_url": config["base_url"], "auth": config["auth"] or "token",
                     "username": config["username"], "enabled": view["enabled"]},
            masked=config,
        )
    return render_page(request, "dhis2/connection.html", {
        "form": form, "connection": view, "next": _next_or(request, ""),
    })


@login_required
@require_POST
def connection_test(request):
    access = writer_access(request)
    try:
        result = connection.connection_test(program=access.program)
    except connection.ConnectionNotConfigured as exc:
        messages.error(request, str(exc))
    else:
        if result["ok"]:
            messages.success(request, _("Connected to DHIS2 %(version)s as %(user)s.") % {
                "version": result["version"], "user": result["username"] or "?"})
        else:
            messages.error(request, _("The DHIS2 connection does not work: %(error)s") % {
                "error": result["error"]})
    return redirect(_next_or(request, reverse("dhis2-connection")))


@login_required
def campaign_dhis2(request, pk):
    access = program_access(request)
    campaign = campaign_for(access, pk, Need.WRITE if request.method == "POST" else Need.READ)
    link = mapping.link_get(campaign=campaign)
    connection_view = connection.connection_view(program=access.program)
    context = {
        "campaign": campaign,
        "connection": connection_view,
        "link": mapping.link_view(campaign=campaign),
        "dhis2_error": "",
        "programs": [],
        "chosen_program": "",
        "form": None,
        "may_see_people": allows(access, Need.PEOPLE, campaign),
    }
    if connection_view["configured"]:
        form, saved = _link_form(request, access, campaign, link, context)
        if saved:
            return redirect("campaign-dhis2", pk=campaign.pk)
        context["form"] = form
    runs = list(campaign.dhis2_syncs.select_related("created_by")[:HISTORY_SHOWN])
    context.update({
        "runs": runs,
        "current": runs[0] if runs else None,
        "current_snapshot": run_snapshot(runs[0]) if runs else None,
    })
    return render_page(request, "dhis2/campaign_dhis2.html", context)


def _link_form(request, access, campaign, link, context):
    """(the link form filled from DHIS2's lists, True when a POST saved the link)."""
    client = connection.client_for(program=access.program, require_enabled=False)
    posted = request.method == "POST"
    source = request.POST if posted else request.GET
    program_uid = (source.get("program_uid") or (link.program_uid if link else "")).strip()
    programs, program = [], None
    if program_uid:
        try:
            check_uid(program_uid)  # the client checks too; here it is also not offered back
        except Dhis2Error as exc:
            context["dhis2_error"] = str(exc)
            program_uid = ""
    try:
        programs = client.programs()
        if program_uid:
            program = client.program(program_uid)
            org_units = mapping.org_unit_choices(client=client, program=program)
    except Dhis2Error as exc:
        context["dhis2_error"] = str(exc)
    if program_uid and not any(p["id"] == program_uid for p in programs):
        programs.append({"id": program_uid, "displayName": program_uid})
    context.update({"programs": programs, "chosen_program": program_uid})
    if program is None:
        return None, False
    options = {"programs": programs, "org_units": org_units,
               "attributes": program["attributes"], "fields": mapping.mappable_fields(campaign)}
    if not posted:
        initial = {"program_uid": program_uid}
        if link and link.program_uid == program_uid:
            initial["org_unit_uid"] = link.org_unit_uid
            initial.update({f"map_{key}": uid for key, uid in link.mapping.items()})
        return LinkForm(initial=initial, **options), False
    form = LinkForm(data=request.POST, **options)
    if not form.is_valid():
        return form, False
    try:
        mapping.link_save(campaign=campaign, client=client,
                          program_uid=form.cleaned_data["program_uid"],
                          org_unit_uid=form.cleaned_data["org_unit_uid"],
                          mapping=form.mapping())
    except ValidationError as exc:
        add_service_errors(form, exc, prefix_map={"mapping.": "map_"})
        return form, False
    except Dhis2Error as exc:
        context["dhis2_error"] = str(exc)
        return form, False
    messages.success(request, _("The DHIS2 link of this campaign was saved."))
    return form, True


@login_required
@require_POST
def campaign_dhis2_sync(request, pk):
    campaign = campaign_for(program_access(request), pk, Need.WRITE)
    try:
        sync.sync_request(campaign=campaign, user=request.user,
                          full=request.POST.get("full") == "on")
    except (sync.SyncConflict, sync.SyncNotReady) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The import from DHIS2 has started."))
    return redirect(reverse("campaign-dhis2", kwargs={"pk": campaign.pk}) + "#sync")


def _next_or(request, default):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default
