"""cards.qr.qr_matrix builds its modules with segno's steps but places them in a symbol made
once per version: the modules must stay exactly those of segno.make for the same link."""

import random

import pytest

from cards.qr import qr, qr_matrix

HEADS = [
    "HTTP://127.0.0.1:8000/V/C/DKR-VAC-9XQ7LM2A",
    "HTTPS://VERIFICATION.PROGRAMME-SANTE.GOUV.SN/V/C/ABCD-EFG-23456789",
    "HTTP://A/V/C/X",
]


def _digits(count, seed):
    rng = random.Random(seed)
    return "".join(rng.choice("0123456789") for _ in range(count))


def _base32(count, seed):
    rng = random.Random(seed)
    return "A" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(count))


def _same_as_segno(url):
    return qr_matrix(url) == qr(url).matrix


@pytest.mark.slow
def test_the_modules_of_a_decimal_token_link_are_segnos_in_every_version_up_to_27():
    # Every kind of block layout, and the versions whose symbols end with 3, 4 or 7 remainder
    # modules.
    codes = {}
    for head in HEADS:
        for length in range(1, 1800, 29):
            url = f"{head}#{_digits(length, length)}"
            codes[url] = qr(url)
    assert {code.version for code in codes.values()} >= set(range(2, 28))
    assert all(qr_matrix(url) == code.matrix for url, code in codes.items())


def test_the_modules_of_a_card_link_are_segnos_in_versions_5_to_10():
    urls = [f"{HEADS[1]}#{_digits(length, length)}" for length in range(1, 240, 3)]
    assert {qr(url).version for url in urls} == set(range(5, 11))
    assert all(_same_as_segno(url) for url in urls)


def test_the_modules_of_a_base32_token_link_are_segnos():
    urls = [f"{HEADS[0]}#{_base32(length, length)}" for length in range(0, 400, 5)]
    assert all(_same_as_segno(url) for url in urls)


def test_the_modules_of_a_link_whose_head_is_in_byte_mode_are_segnos():
    # A base URL with a lower-case path: the head goes in byte mode.
    urls = [f"https://x.org/verify/V/C/DKR-{n:08d}#{_digits(230, n)}" for n in range(40)]
    assert all(_same_as_segno(url) for url in urls)


def test_the_modules_of_a_link_without_a_card_token_are_segnos():
    # One segment, its mode left to segno.
    assert _same_as_segno("https://verify.sante.gouv.sn/v/c/DKR-VAC-9XQ7LM2A#not-a-token")


def test_the_modules_of_many_card_links_are_segnos():
    rng = random.Random(18)
    urls = [
        f"HTTPS://VERIFY.SANTE.GOUV.SN/V/C/DKR-VAC-{rng.getrandbits(40):012X}"
        f"#{_digits(rng.randint(180, 234), n)}"
        for n in range(100)
    ]
    assert all(_same_as_segno(url) for url in urls)


def test_a_link_too_long_for_any_qr_code_is_refused_as_segno_refuses_it():
    url = f"{HEADS[0]}#{_digits(8000, 1)}"
    with pytest.raises(ValueError, match="Data too large"):
        qr(url)
    with pytest.raises(ValueError, match="Data too large"):
        qr_matrix(url)
