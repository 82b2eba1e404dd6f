"""Back-office for cards: find one by its code, see its state, revoke or unrevoke it; and for
the programs' signing keys (read-only but for rotation).

Cards are created by generation jobs and never edited by hand; revocation goes through
cards.revocation. Rows are scoped like the campaigns' (campaigns/admin_scope.py); a
card reaches its holder, so a sensitive campaign's cards are listed only with the sensitive
grant.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy, ngettext

from campaigns.admin_scope import ProgramScopedAdmin, without_ungranted_sensitive
from campaigns.models import Campaign, Program, Role
from cards import admin_jobs  # noqa: F401  (registers generation jobs)
from cards.key_reissue import key_reissue_create
from cards.models import Card, SigningKey
from cards.qr import verification_url
from cards.revocation import CardStateConflict, card_revoke, card_unrevoke
from cards.signing_keys import KeyStateConflict, signing_key_rotate, signing_key_withdraw
from cards.validity import card_status

ADMIN_REVOKE_REASON = "revoked by admin"


class CardStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        # "Withdrawn" depends on the token's key, not on a column: no filter for it.
        return [c for c in Card.Status.choices if c[0] != Card.Status.WITHDRAWN]

    def queryset(self, request, queryset):
        # UTC's today: a filter, not a verdict (the row's status column uses the program's).
        today = timezone.now().date()
        not_expired = Q(expires_on__isnull=True) | Q(expires_on__gte=today)
        if self.value() == Card.Status.REVOKED:
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == Card.Status.EXPIRED:
            return queryset.filter(revoked_at__isnull=True).exclude(not_expired)
        if self.value() == Card.Status.VALID:
            return queryset.filter(not_expired, revoked_at__isnull=True)
        return queryset


@admin.register(Card)
class CardAdmin(ProgramScopedAdmin):
    program_field = "campaign__program"
    campaign_field = "campaign"
    names_people = True
    list_display = ("code", "campaign", "status", "issued_on", "expires_on", "revoked_at")
    list_filter = (
        CardStatusFilter, "issued_on", "campaign__campaign_type",
        ("campaign__program", admin.RelatedOnlyFieldListFilter),
        ("campaign", admin.RelatedOnlyFieldListFilter),
    )
    # Staff look people up by name or their own id too; get_queryset has already dropped the
    # sensitive campaigns' cards for the ungranted, so a name finds nothing there.
    search_fields = (
        "=code", "code", "beneficiary__first_name", "beneficiary__last_name",
        "beneficiary__external_id",
    )
    list_select_related = ("campaign__program",)
    # Programs issue cards by the ten thousand: no COUNT(*) of the whole table per page.
    show_full_result_count = False
    date_hierarchy = "issued_on"
    actions = ("revoke_cards", "unrevoke_cards")
    fields = (
        "code", "campaign", "holder", "job", "status", "issued_on", "expires_on", "revoked_at",
        "revoked_reason", "verification_page",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        # Cards come from generation jobs: codes assigned, tokens signed, cards printed.
        return False

    def has_change_permission(self, request, obj=None):
        # Nothing is edited by hand; "change" only grants the revoke/unrevoke actions.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        # A printed card must keep answering: revoke it instead.
        return False

    @admin.display(description=gettext_lazy("Status"))
    def status(self, card):
        return Card.Status(card_status(card)).label

    @admin.display(description=gettext_lazy("Holder"))
    def holder(self, card):
        url = reverse("admin:campaigns_beneficiary_change", args=[card.beneficiary_id])
        return format_html('<a href="{}">{}</a>', url, card.beneficiary)

    @admin.display(description=gettext_lazy("Verification page"))
    def verification_page(self, card):
        # Without the token: the public page then shows the status only, no personal data.
        url = verification_url(card).partition("#")[0]
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    def _apply(self, request, queryset, change, done_message):
        changed = 0
        for card in self.writable(request, queryset).select_related("campaign"):
            try:
                change(card)
            except CardStateConflict:
                continue
            changed += 1
        self.message_user(request, done_message(changed), messages.SUCCESS)

    @admin.action(description=gettext_lazy("Revoke the selected cards"), permissions=["change"])
    def revoke_cards(self, request, queryset):
        self._apply(
            request, queryset,
            lambda card: card_revoke(card=card, reason=ADMIN_REVOKE_REASON, user=request.user),
            lambda n: ngettext("%(n)d card revoked.", "%(n)d cards revoked.", n) % {"n": n},
        )

    @admin.action(description=gettext_lazy("Unrevoke the selected cards"), permissions=["change"])
    def unrevoke_cards(self, request, queryset):
        self._apply(
            request, queryset,
            lambda card: card_unrevoke(card=card, user=request.user),
            lambda n: ngettext(
                "%(n)d card is valid again.", "%(n)d cards are valid again.", n
            ) % {"n": n},
        )


# Signing keys: private keys never leave their encrypted column; the changes are rotation and
# withdrawal (cards.signing_keys), and the reissue of a withdrawn key's cards
# (cards.key_reissue). Program admins only.
@admin.register(SigningKey)
class SigningKeyAdmin(ProgramScopedAdmin):
    write_roles = (Role.ADMIN,)
    list_display = ("kid", "program", "status", "created_at", "retired_at", "withdrawn_at")
    list_filter = (("program", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("=kid", "program__slug", "program__name")
    list_select_related = ("program",)
    fields = ("kid", "program", "status", "public_key", "created_at", "retired_at",
              "withdrawn_at", "withdrawn_reason")
    readonly_fields = fields
    actions = ("rotate_keys", "withdraw_keys", "reissue_withdrawn_cards")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # A deleted key would turn every card it signed into "forged".
        return False

    @admin.display(description=gettext_lazy("Status"))
    def status(self, key):
        return key.status

    @admin.action(description=gettext_lazy("Rotate the keys of the selected keys' programs"))
    def rotate_keys(self, request, queryset):
        """A new active key per program; the old one is retired and keeps verifying its cards."""
        program_ids = set(self.writable(request, queryset).values_list("program_id", flat=True))
        for program in Program.objects.filter(pk__in=program_ids):
            signing_key_rotate(program=program)
        self.message_user(
            request,
            ngettext(
                "%(n)d program has a new signing key.", "%(n)d programs have a new signing key.",
                len(program_ids),
            ) % {"n": len(program_ids)},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Withdraw the selected keys (leaked)…"))
    def withdraw_keys(self, request, queryset):
        """Asks for the reason on a page of its own, then withdraws: the cards these keys
        signed answer "not valid: key withdrawn" everywhere from now on."""
        keys = list(self.writable(request, queryset).select_related("program"))
        if request.POST.get("confirm") != "1":
            return TemplateResponse(request, "admin/cards/signingkey/withdraw.html", {
                **self.admin_site.each_context(request),
                "title": gettext_lazy("Withdraw signing keys"),
                "keys": keys,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            })
        done = 0
        for key in keys:
            try:
                signing_key_withdraw(key=key, reason=request.POST.get("reason", ""),
                                     user=request.user)
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
                return None
            except KeyStateConflict as exc:
                self.message_user(request, str(exc), messages.INFO)
            else:
                done += 1
        self.message_user(request, ngettext(
            "%(n)d key withdrawn: reissue its cards with the action "
            "“Reissue the cards of the selected withdrawn keys”.",
            "%(n)d keys withdrawn: reissue their cards with the action "
            "“Reissue the cards of the selected withdrawn keys”.", done,
        ) % {"n": done}, messages.SUCCESS)
        return None

    @admin.action(description=gettext_lazy("Reissue the cards of the selected withdrawn keys"))
    def reissue_withdrawn_cards(self, request, queryset):
        """One reissue job per campaign with live cards signed by the key, charged as any
        reissue; campaigns the user may not change (sensitive without the grant) are left."""
        campaigns = without_ungranted_sensitive(request, Campaign.objects.all(), "")
        keys = self.writable(request, queryset).filter(withdrawn_at__isnull=False)
        jobs = 0
        for key in keys:
            result = key_reissue_create(key=key, user=request.user, campaigns=campaigns)
            jobs += len(result.jobs)
            for campaign, message in result.skipped:
                self.message_user(request, f"{campaign.prefix}: {message}", messages.WARNING)
        self.message_user(request, ngettext(
            "%(n)d reissue job started.", "%(n)d reissue jobs started.", jobs
        ) % {"n": jobs}, messages.SUCCESS)
