import base64
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from campaignid import crypto
from campaigns.models import CampaignType
from cards.models import SigningKey
from cards.signing_keys import (
    all_jwks,
    b64url_decode,
    private_key,
    program_jwks,
    program_public_keys,
    signing_key_for,
    signing_key_rotate,
)
from cards.tokens import (
    BAD_ENCODING,
    BAD_SIGNATURE,
    CAMPAIGN_TYPE_CODES,
    NEUTRAL_TYPE,
    UNKNOWN_KEY,
    CardClaims,
    CardSigner,
    InvalidCardToken,
    card_token_decode,
    card_token_sign,
    card_token_verify,
    decimal_encode,
    signing_input,
    token_name,
)
from tests.factories import make_program

pytestmark = pytest.mark.django_db

CODE = "DKR-VAC-9XQ7LM2A"
CLAIMS = CardClaims(
    name="Aïssatou N'Diaye",
    birth_date=date(2019, 5, 17),
    program_id=300,
    campaign_type="vaccination",
    issued_on=date(2026, 1, 15),
    expires_on=date(2027, 1, 15),
)
# RFC 8032 test 1 key: the worked examples of the token format in the README.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
# Version 2 (new cards): the same card; no program id in the token.
V2_EXAMPLE_TOKEN = (
    "00197362138617402422917045275581440179100848667452864687812605895731980030371858483609967"
    "269559123096978977847384194269212071893433019663297671046703736529588408034637984328055795"
    "624585990867431182223790737349941333155995962633"
)
V2_EXAMPLE_PAYLOAD_HEX = (
    "0221fe31dfa100089e0a0baa5041c3af737361746f75204e274469617965"
)
V2_EXAMPLE_SIGNATURE_HEX = (
    "31506d603a9ffcec83fadd656a89c8d599d97b8dc43cbe40ec825242b47b14c0"
    "9499b4a9494fd49af72fc413a02dd7ec3a0c9bd627869259b77f62022663cd09"
)
# Version 1 (cards issued before version 2): they keep verifying.
EXAMPLE_TOKEN = (
    "AEQ74MO7UGWAEAAITYFAXKSQCFA4HL3TONQXI33VEBHCORDJMF4WLJCEM6RZ4UY3ZHLQ4MW252CQSNBPMYGH57KXEIQ"
    "355NIBARVROSW24OFCBUF3QCTDFOOJB5I7QGIOJ47ZFKKAJVBE3IX73YJHHCPQ4FQ"
)
# The README's second example: a sensitive campaign's card (neutral type, no expiry).
NEUTRAL_CODE = "THS-SAN-4RZ8KQ2M"
NEUTRAL_CLAIMS = CardClaims(
    name="Moussa Diop",
    birth_date=date(1984, 7, 2),
    program_id=300,
    campaign_type="health",
    issued_on=date(2026, 3, 2),
    expires_on=None,
)
NEUTRAL_TOKEN = (
    "AEQ74MO7UGWAECYIZT7766EPBNGW65LTONQSARDJN5YAKQ4W6H2KHXUF6ZJELPT44EZYGBDYO4RLPVFE3BZPFDY6G"
    "H7UOAMVKQRYTWVRUPB4FNWKVMJRG3FRK3UIIPLYQHKJFRXG67R4B3FNBQ"
)


def _claims_for(program, **changes):
    return replace(CLAIMS, program_id=program.pk, **changes)


def _sign(program, *, code=CODE, **changes):
    """A token for `program`'s active key."""
    return card_token_sign(
        code=code, payload=_claims_for(program, **changes), key=signing_key_for(program=program)
    )


def _keys(program):
    return program_public_keys(program=program)


def test_encrypted_secret_decrypts_back():
    assert crypto.decrypt(crypto.encrypt(b"\x00secret\xff")) == b"\x00secret\xff"


def test_secret_encrypted_under_another_key_names_the_cause(settings):
    token = crypto.encrypt(b"secret")
    settings.ENCRYPTION_KEY = crypto.generate_key()
    with pytest.raises(crypto.DecryptionError, match="ENCRYPTION_KEY"):
        crypto.decrypt(token)


def test_old_encryption_key_listed_second_still_decrypts(settings):
    old = crypto.generate_key()
    settings.ENCRYPTION_KEY = old
    token = crypto.encrypt(b"secret")
    settings.ENCRYPTION_KEY = f"{crypto.generate_key()},{old}"
    assert crypto.decrypt(token) == b"secret"


def test_private_key_is_not_stored_in_clear():
    key = signing_key_for(program=make_program())
    raw_private = private_key(key).private_bytes_raw()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT private_key_encrypted FROM verification_signingkey WHERE id = %s", [key.pk]
        )
        (stored,) = cursor.fetchone()
    assert raw_private not in stored.encode()
    assert base64.b64encode(raw_private).decode() not in stored
    assert raw_private.hex() not in stored
    assert crypto.decrypt(stored) == raw_private


def test_signing_key_is_created_once_and_reused():
    program = make_program()
    first = signing_key_for(program=program)
    assert signing_key_for(program=program) == first
    assert len(first.kid) == 8
    assert SigningKey.objects.for_program(program).count() == 1


def test_second_active_key_for_a_program_is_refused_by_the_database():
    program = make_program()
    key = signing_key_for(program=program)
    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(
            program=program, kid="AAAAAAAA", public_key=key.public_key, private_key_encrypted="x"
        )


def test_token_round_trip_gives_back_the_claims():
    program = make_program()
    key = signing_key_for(program=program)
    claims = _claims_for(program)
    token = card_token_sign(code=CODE, payload=claims, key=key)
    assert card_token_verify(code=CODE, token=token, public_keys=_keys(program)) == replace(
        claims, program_id=None
    )


def test_new_token_is_version_2_in_decimal_digits():
    program = make_program()
    token = _sign(program)
    assert token.isdigit() and token.isascii()
    assert card_token_decode(token)[2][0] == 2


def test_version_2_token_leaves_the_program_id_out():
    program = make_program()
    token = _sign(program)
    assert card_token_verify(code=CODE, token=token, public_keys=_keys(program)).program_id is None


def test_version_1_token_is_upper_case_base32_without_padding():
    signer = CardSigner(SimpleNamespace(kid="AAAAAAAA"), private_key=Ed25519PrivateKey.generate())
    token = signer.sign(code=CODE, payload=CLAIMS, version=1)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def test_token_carries_the_key_id():
    program = make_program()
    key = signing_key_for(program=program)
    token = card_token_sign(code=CODE, payload=_claims_for(program), key=key)
    assert card_token_decode(token)[1] == key.kid


def test_long_name_is_cut_to_20_bytes_at_a_character_boundary():
    program = make_program()
    name = "é" * 30  # 60 bytes of UTF-8
    token = _sign(program, name=name)
    claims = card_token_decode(token)[0]
    assert claims.name == "é" * 8 + "…"  # 16 + 3 bytes: marked as shortened


def test_name_cut_never_splits_a_character():
    program = make_program()
    name = "a" + "é" * 30  # a cut at byte 17 would fall inside an "é"
    token = _sign(program, name=name)
    assert card_token_decode(token)[0].name == "a" + "é" * 8 + "…"


def test_name_of_exactly_20_bytes_is_kept_whole():
    program = make_program()
    name = "Ndèye Fatou Mbaye S"  # 20 bytes of UTF-8
    assert len(name.encode()) == 20
    assert card_token_decode(_sign(program, name=name))[0].name == name


def test_a_name_that_fits_the_token_is_carried_whole():
    assert token_name("Aïssatou Ndèye", "Sow") == "Aïssatou Ndèye Sow"  # 20 bytes


def test_given_names_become_initials_last_one_first_until_the_name_fits():
    assert token_name("Mame Diarra Bousso", "Ndiaye") == "Mame D. B. Ndiaye"
    assert token_name("Aïssatou Ndèye Fatou", "Mbaye") == "A. N. F. Mbaye"


def test_a_family_name_too_long_even_after_initials_is_cut_with_an_ellipsis():
    program = make_program()
    name = token_name("Awa", "Ouédraogo-N'Guessan Diallo")
    assert name == "A. Ouédraogo-N'Guessan Diallo"
    assert card_token_decode(_sign(program, name=name))[0].name == "A. Ouédraogo-N'G…"


def test_version_1_token_still_cut_names_at_40_bytes():
    signer = CardSigner(SimpleNamespace(kid="AAAAAAAA"), private_key=Ed25519PrivateKey.generate())
    token = signer.sign(code=CODE, payload=replace(CLAIMS, name="é" * 30), version=1)
    assert card_token_decode(token)[0].name == "é" * 18 + "…"


def test_card_without_expiry_round_trips_as_none():
    program = make_program()
    claims = _claims_for(program, expires_on=None)
    token = card_token_sign(code=CODE, payload=claims, key=signing_key_for(program=program))
    assert card_token_decode(token)[0].expires_on is None


@pytest.mark.parametrize("program_id", [0, 127, 128, 300, 16_383, 16_384, 2**28 - 1])
def test_program_id_varint_round_trips(program_id):
    key = SimpleNamespace(kid="AAAAAAAA")
    signer = CardSigner(key, private_key=Ed25519PrivateKey.generate())
    token = signer.sign(code=CODE, payload=replace(CLAIMS, program_id=program_id), version=1)
    assert card_token_decode(token)[0].program_id == program_id


def test_program_id_too_large_for_a_version_1_token_is_refused():
    signer = CardSigner(SimpleNamespace(kid="AAAAAAAA"), private_key=Ed25519PrivateKey.generate())
    with pytest.raises(ValueError, match="program_id"):
        signer.sign(code=CODE, payload=replace(CLAIMS, program_id=2**28), version=1)


def test_issue_date_before_2020_is_refused_with_the_field_name():
    signer = CardSigner(SimpleNamespace(kid="AAAAAAAA"), private_key=Ed25519PrivateKey.generate())
    with pytest.raises(ValueError, match="issued_on"):
        signer.sign(code=CODE, payload=replace(CLAIMS, issued_on=date(2019, 12, 31)))


def test_every_campaign_type_has_a_token_index_in_model_order():
    assert list(CAMPAIGN_TYPE_CODES[: len(CampaignType.values)]) == CampaignType.values


def test_the_campaign_type_table_is_frozen_with_the_neutral_type_appended():
    assert CAMPAIGN_TYPE_CODES == (
        "vaccination", "mild", "nutrition", "antenatal", "hiv", "insurance", "refugee",
        "identity", "lab", "cps", "farmercard", "health",
    )
    assert NEUTRAL_TYPE == "health"
    assert NEUTRAL_TYPE not in CampaignType.values


def test_the_js_verifier_has_the_same_type_table():
    source = (Path(settings.BASE_DIR) / "static" / "verification" / "verify.js").read_text()
    table = re.search(r"var CAMPAIGN_TYPES = \[(.*?)\];", source, re.DOTALL).group(1)
    assert tuple(re.findall(r"'(\w+)'", table)) == CAMPAIGN_TYPE_CODES


def test_a_token_signed_with_the_old_hiv_type_still_verifies():
    program = make_program()
    token = _sign(program, campaign_type="hiv")
    claims = card_token_verify(code=CODE, token=token, public_keys=_keys(program))
    assert claims.campaign_type == "hiv"


def test_any_single_changed_digit_is_refused():
    program = make_program()
    token = _sign(program)
    keys = program_public_keys(program=program)
    for position, char in enumerate(token):
        other = "1" if char == "0" else "0"
        tampered = token[:position] + other + token[position + 1 :]
        with pytest.raises(InvalidCardToken):
            card_token_verify(code=CODE, token=tampered, public_keys=keys)


def test_any_single_changed_character_of_a_version_1_token_is_refused():
    public = Ed25519PrivateKey.from_private_bytes(RFC8032_SEED).public_key()
    for position, char in enumerate(EXAMPLE_TOKEN):
        other = "B" if char == "A" else "A"
        tampered = EXAMPLE_TOKEN[:position] + other + EXAMPLE_TOKEN[position + 1 :]
        with pytest.raises(InvalidCardToken):
            card_token_verify(code=CODE, token=tampered, public_keys={"EH7DDX5B": public})


def test_lower_case_version_1_token_is_bad_encoding():
    with pytest.raises(InvalidCardToken) as caught:
        card_token_decode(EXAMPLE_TOKEN.lower())
    assert caught.value.reason == BAD_ENCODING


@pytest.mark.parametrize("cut", [1, 2, 3, 8])
def test_truncated_token_is_bad_encoding(cut):
    program = make_program()
    token = _sign(program)
    with pytest.raises(InvalidCardToken) as caught:
        card_token_decode(token[:-cut])
    assert caught.value.reason == BAD_ENCODING


def test_a_version_2_number_too_large_for_its_digit_count_is_bad_encoding():
    # 94 bytes spell as 227 digits; 227 nines is more than 256^94 - 1.
    with pytest.raises(InvalidCardToken, match="larger than its digit count"):
        card_token_decode("9" * 227)


def test_a_version_2_token_with_one_more_leading_zero_is_bad_encoding():
    with pytest.raises(InvalidCardToken) as caught:
        card_token_decode("0" + V2_EXAMPLE_TOKEN)
    assert caught.value.reason == BAD_ENCODING


def test_a_pasted_string_of_thousands_of_digits_is_bad_encoding():
    with pytest.raises(InvalidCardToken, match="too long"):
        card_token_decode("1" * 5000)


def test_version_1_bytes_spelt_in_digits_are_bad_encoding():
    """Each version has its spelling: a version 1 token's bytes in decimal are refused."""
    raw = base64.b32decode(EXAMPLE_TOKEN + "=" * (-len(EXAMPLE_TOKEN) % 8))
    with pytest.raises(InvalidCardToken, match="unsupported version 1"):
        card_token_decode(decimal_encode(raw))


def test_token_signed_by_another_program_is_unknown_key():
    program, other = make_program(), make_program()
    token = _sign(other)
    signing_key_for(program=program)
    with pytest.raises(InvalidCardToken) as caught:
        card_token_verify(code=CODE, token=token, public_keys=_keys(program))
    assert caught.value.reason == UNKNOWN_KEY


def test_token_checked_against_another_programs_key_under_its_kid_is_bad_signature():
    program, other = make_program(), make_program()
    token = _sign(other)
    kid = card_token_decode(token)[1]
    wrong_key = b64url_decode(signing_key_for(program=program).public_key)
    with pytest.raises(InvalidCardToken) as caught:
        card_token_verify(code=CODE, token=token, public_keys={kid: wrong_key})
    assert caught.value.reason == BAD_SIGNATURE


def test_token_under_another_card_code_is_bad_signature():
    program = make_program()
    token = _sign(program)
    with pytest.raises(InvalidCardToken) as caught:
        card_token_verify(code="DKR-VAC-9XQ7LM2B", token=token, public_keys=_keys(program))
    assert caught.value.reason == BAD_SIGNATURE


def test_rotation_keeps_old_cards_verifying_and_signs_new_ones_with_the_new_key():
    program = make_program()
    old_key = signing_key_for(program=program)
    old_token = card_token_sign(code=CODE, payload=_claims_for(program), key=old_key)
    new_key = signing_key_rotate(program=program)
    assert new_key.kid != old_key.kid
    assert signing_key_for(program=program) == new_key
    new_token = _sign(program, code="DKR-VAC-22222222")
    assert card_token_decode(new_token)[1] == new_key.kid

    jwks = program_jwks(program=program)
    statuses = {jwk["kid"]: jwk["status"] for jwk in jwks["keys"]}
    assert statuses == {old_key.kid: "retired", new_key.kid: "active"}
    keys_from_jwks = {jwk["kid"]: b64url_decode(jwk["x"]) for jwk in jwks["keys"]}
    assert card_token_verify(code=CODE, token=old_token, public_keys=keys_from_jwks)
    assert card_token_verify(code="DKR-VAC-22222222", token=new_token, public_keys=keys_from_jwks)


def test_jwks_entries_are_okp_ed25519_with_program_and_status():
    program = make_program()
    key = signing_key_for(program=program)
    (jwk,) = program_jwks(program=program)["keys"]
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": key.public_key,
        "kid": key.kid,
        "use": "sig",
        "alg": "EdDSA",
        "program": program.slug,
        "status": "active",
    }
    assert len(b64url_decode(jwk["x"])) == 32


def test_all_jwks_lists_every_programs_keys():
    first, second = make_program(), make_program()
    kids = {signing_key_for(program=first).kid, signing_key_for(program=second).kid}
    assert {jwk["kid"] for jwk in all_jwks()["keys"]} == kids


def test_program_jwks_lists_only_that_programs_keys():
    program, other = make_program(), make_program()
    key = signing_key_for(program=program)
    signing_key_for(program=other)
    assert [jwk["kid"] for jwk in program_jwks(program=program)["keys"]] == [key.kid]


def test_published_version_2_example_token_is_reproduced_exactly():
    """The README's worked example of version 2, which the JavaScript verifier's tests reuse."""
    private = Ed25519PrivateKey.from_private_bytes(RFC8032_SEED)
    signer = CardSigner(SimpleNamespace(kid="EH7DDX5B"), private_key=private)
    assert signer.sign(code=CODE, payload=CLAIMS) == V2_EXAMPLE_TOKEN
    _claims, kid, payload, signature = card_token_decode(V2_EXAMPLE_TOKEN)
    assert (kid, payload.hex(), signature.hex()) == (
        "EH7DDX5B", V2_EXAMPLE_PAYLOAD_HEX, V2_EXAMPLE_SIGNATURE_HEX
    )
    assert signing_input(CODE, payload)[:18] == b"campaignid-card-v2"
    public = private.public_key().public_bytes_raw()
    assert card_token_verify(
        code=CODE, token=V2_EXAMPLE_TOKEN, public_keys={"EH7DDX5B": public}
    ) == replace(CLAIMS, program_id=None)


def test_published_example_token_is_reproduced_exactly():
    """The README's worked example of version 1, which the JavaScript verifier's tests reuse."""
    private = Ed25519PrivateKey.from_private_bytes(RFC8032_SEED)
    signer = CardSigner(SimpleNamespace(kid="EH7DDX5B"), private_key=private)
    assert signer.sign(code=CODE, payload=CLAIMS, version=1) == EXAMPLE_TOKEN
    public = private.public_key().public_bytes_raw()
    assert (
        card_token_verify(code=CODE, token=EXAMPLE_TOKEN, public_keys={"EH7DDX5B": public})
        == CLAIMS
    )


def test_published_neutral_type_example_token_is_reproduced_exactly():
    """The README's second worked example: type index 11, no expiry (0xFFFF)."""
    private = Ed25519PrivateKey.from_private_bytes(RFC8032_SEED)
    signer = CardSigner(SimpleNamespace(kid="EH7DDX5B"), private_key=private)
    assert signer.sign(code=NEUTRAL_CODE, payload=NEUTRAL_CLAIMS, version=1) == NEUTRAL_TOKEN
    public = private.public_key().public_bytes_raw()
    claims = card_token_verify(
        code=NEUTRAL_CODE, token=NEUTRAL_TOKEN, public_keys={"EH7DDX5B": public}
    )
    assert claims == NEUTRAL_CLAIMS
