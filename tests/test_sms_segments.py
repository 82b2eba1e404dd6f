from decimal import Decimal

import pytest

from distribution.providers.orange_sms.segments import SmsCount, sms_cost, sms_segments


def test_plain_text_of_160_characters_is_one_gsm7_segment():
    assert sms_segments("a" * 160) == SmsCount("GSM-7", 160, 1)


def test_161_gsm7_characters_need_two_segments_of_153():
    assert sms_segments("a" * 161).segments == 2
    assert sms_segments("a" * 306).segments == 2
    assert sms_segments("a" * 307).segments == 3


def test_french_accents_of_the_gsm_alphabet_stay_gsm7():
    assert sms_segments("Votre carte: élève à Thiès, où? Ç è é ù à ì ò").encoding == "GSM-7"


@pytest.mark.parametrize("char", ["^", "{", "}", "\\", "[", "~", "]", "|", "€", "\f"])
def test_extension_table_characters_count_two_units(char):
    assert sms_segments(f"ab{char}") == SmsCount("GSM-7", 4, 1)


def test_eighty_euro_signs_fill_exactly_one_segment():
    assert sms_segments("€" * 80) == SmsCount("GSM-7", 160, 1)
    assert sms_segments("€" * 81).segments == 2


def test_an_extension_character_is_never_split_across_segments():
    # 306 units would fit two segments of 153, but the € cannot straddle their boundary.
    text = "a" * 152 + "€" + "a" * 152
    assert sms_segments(text) == SmsCount("GSM-7", 306, 3)


@pytest.mark.parametrize("char", ["ç", "â", "ê", "î", "ô", "û", "ë", "ï", "œ", "À", "È", "Ê",
                                  "ó", "\u2019", "«", "»"])
def test_one_character_outside_gsm7_makes_the_message_ucs2(char):
    assert sms_segments(f"Bonjour {char}").encoding == "UCS-2"


def test_ucs2_holds_70_units_then_67_per_segment():
    assert sms_segments("ç" * 70) == SmsCount("UCS-2", 70, 1)
    assert sms_segments("ç" * 71).segments == 2
    assert sms_segments("ç" * 134).segments == 2
    assert sms_segments("ç" * 135).segments == 3


def test_an_emoji_outside_the_bmp_counts_two_units():
    assert sms_segments("ok 😀") == SmsCount("UCS-2", 5, 1)


def test_an_emoji_is_never_split_across_ucs2_segments():
    text = "ç" * 66 + "😀" + "ç" * 66
    assert sms_segments(text) == SmsCount("UCS-2", 134, 3)


def test_empty_text_is_zero_segments():
    assert sms_segments("") == SmsCount("GSM-7", 0, 0)


def test_cost_is_segments_times_price():
    assert sms_cost("a" * 161, "12.5") == Decimal("25.0")
    assert sms_cost("ç" * 10, Decimal("10")) == Decimal("10")
