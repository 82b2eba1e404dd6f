"""Cards over the API: state, revocation, and a campaign's registry for offline verifiers.

Through the access seam: another program's card code answers 404, like an unknown one.
"""

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.access import Need, access_for_request, api_campaign_for, object_for
from campaigns.throttling import AddressThrottle, ProgramCallerThrottle
from cards.models import Card
from cards.revocation import CardStateConflict, card_revoke, card_unrevoke
from verification.portal import current_portal_file
from verification.registry import registry_for
from verification.selectors import beneficiaries_by_attribute, normalise_code
from verification.serializers import CardOutput, CardRevokeInput


def scoped_card(request, code, need):
    """A card is a person's: reading it needs PEOPLE, revoking it WRITE (campaigns.access)."""
    return object_for(access_for_request(request), Card.objects.select_related(
        "campaign__program"), need, code=normalise_code(code))


def _conflict(exc):
    return Response({"error": str(exc)}, status=status.HTTP_409_CONFLICT)


def _invalid(exc):
    fields = exc.message_dict
    name, errors = next(iter(fields.items()))
    return Response({"error": f"{name}: {errors[0]}", "fields": fields}, status=400)


class CardDetailView(APIView):
    @extend_schema(responses=CardOutput, summary="A card's status, dates and revocation")
    def get(self, request, code):
        return Response(CardOutput(scoped_card(request, code, Need.PEOPLE)).data)


class CardRevokeView(APIView):
    @extend_schema(
        request=CardRevokeInput,
        responses={200: CardOutput, 400: OpenApiResponse(description="no reason"),
                   409: OpenApiResponse(description="already revoked")},
        summary="Revoke a card: it answers 'revoked' online and in portals built from now",
    )
    def post(self, request, code):
        card = scoped_card(request, code, Need.WRITE)
        data = CardRevokeInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            card = card_revoke(card=card, reason=data.validated_data["reason"], user=request.user)
        except CardStateConflict as exc:
            return _conflict(exc)
        except ValidationError as exc:
            return _invalid(exc)
        return Response(CardOutput(card).data)


class CardUnrevokeView(APIView):
    @extend_schema(
        request=None,
        responses={200: CardOutput, 409: OpenApiResponse(description="not revoked")},
        summary="Undo a card's revocation",
    )
    def post(self, request, code):
        card = scoped_card(request, code, Need.WRITE)
        try:
            card = card_unrevoke(card=card, user=request.user)
        except CardStateConflict as exc:
            return _conflict(exc)
        return Response(CardOutput(card).data)


class CampaignRegistryView(APIView):
    # Offline verifiers fetch it in bulk: limited per address too, not only per key.
    throttle_classes = [ProgramCallerThrottle, AddressThrottle]

    @extend_schema(
        responses={(200, "application/json"): OpenApiTypes.OBJECT},
        operation_id="campaign_registry",
        summary="The campaign's registry now (JSON)",
        description="Card statuses (valid, revoked, withdrawn) and dates by SHA-256 of the "
        "code, and the program's public keys; no names or phone numbers. The offline portal "
        "carries the same statuses as a signed status list (public: /v/status/<PREFIX>.bin).",
    )
    def get(self, request, pk):
        campaign = api_campaign_for(request, pk, Need.PEOPLE)
        response = Response(registry_for(campaign=campaign))
        response["Cache-Control"] = "no-store"
        return response


class CampaignPortalView(APIView):
    # A ZIP of every card's status, built on each call: limited like the registry.
    throttle_classes = [ProgramCallerThrottle, AddressThrottle]

    @extend_schema(
        parameters=[
            OpenApiParameter("split_by", OpenApiTypes.STR, description=(
                "A beneficiary attribute, e.g. district: with `part`, the portal of that "
                "part's people only (a national round, one portal per district).")),
            OpenApiParameter("part", OpenApiTypes.STR, description="The attribute's value."),
        ],
        responses={(200, "application/zip"): OpenApiTypes.BINARY,
                   400: OpenApiResponse(description="split_by or part names no beneficiary")},
        operation_id="campaign_portal",
        summary="The offline verification portal as of now (ZIP)",
        description="The campaign's current card statuses (revocations up to this call, every "
        "job's cards) in the offline portal, which prints the time of its statuses. Starts no "
        "generation and charges no quota; each job's own portal stays as it was built.",
    )
    def get(self, request, pk):
        campaign = api_campaign_for(request, pk, Need.PEOPLE)
        out, filename = current_portal_file(campaign=campaign, **_portal_part(request, campaign))
        # FileResponse streams the temporary file in blocks and closes (deletes) it after.
        response = FileResponse(out, as_attachment=True, filename=filename,
                                content_type="application/zip")
        # Like every stored file (campaignid/files.py): no shared or disk cache keeps it.
        response["Cache-Control"] = "private, no-store"
        return response


def _portal_part(request, campaign) -> dict:
    """{} for the whole campaign, or the beneficiaries and name of the part asked for."""
    split_by, part = (request.query_params.get(name, "").strip() for name in ("split_by", "part"))
    if not split_by and not part:
        return {}
    if not split_by or not part:
        missing = "part" if split_by else "split_by"
        raise serializers.ValidationError({missing: [_("Give split_by and part together.")]})
    try:
        parts = dict(beneficiaries_by_attribute(campaign=campaign, name=split_by))
    except ValueError:
        raise serializers.ValidationError(
            {"split_by": [_("Letters, digits and _ only (a beneficiary attribute).")]}
        ) from None
    if part not in parts:
        raise serializers.ValidationError({"part": [
            _("No beneficiary of this campaign has %(attribute)s = %(value)s.")
            % {"attribute": split_by, "value": part}
        ]})
    return {"beneficiaries": parts[part], "part": part}
