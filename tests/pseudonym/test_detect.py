"""The free-text detector on the reference's examples: every identifier kind, valid and invalid,
phones, e-mail, IBAN, overlaps between kinds, known names, and the redaction API."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from consentkit.errors import InvalidInputError
from consentkit.pseudonym.detect import ENTITY_TYPES, Detector, Entity, Redaction, get_detector

from .strategies import TODAY


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(today=TODAY)


def found(detector: Detector, text: str, lang: str, names: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(e.type, text[e.start:e.end]) for e in detector.analyze(text, lang=lang, known_names=names)]


# pii-and-identifiers.md §5: the valid and invalid examples of every kind, each in a sentence
# of the kind's own language with its usual label.
VALID = [
    ("GR_AMKA", "el", "ΑΜΚΑ: {}.", "01013099997"),
    ("GR_AMKA", "el", "ΑΜΚΑ: {}.", "15038512347"),
    ("GR_AFM", "el", "ΑΦΜ {}, ΔΟΥ Α' Αθηνών.", "123456783"),
    ("GR_AFM", "el", "Ο ΑΦΜ είναι {}.", "EL 094259216"),
    ("SE_PERSONNUMMER", "sv", "Personnummer {} enligt ansökan.", "880320-0016"),
    ("SE_PERSONNUMMER", "sv", "Personnummer {} enligt ansökan.", "850709-2388"),
    ("SE_PERSONNUMMER", "sv", "Personnummer {} enligt ansökan.", "19850709-2388"),
    ("SE_PERSONNUMMER", "sv", "Personnummer {} enligt ansökan.", "8507092388"),
    ("SE_PERSONNUMMER", "sv", "Samordningsnummer {} enligt ansökan.", "850769-2385"),
    ("SE_PERSONNUMMER", "sv", "Personnummer {} enligt ansökan.", "200101+1234"),
    ("RU_SNILS", "ru", "СНИЛС {}, выдан ранее.", "112-233-445 95"),
    ("RU_SNILS", "ru", "СНИЛС {}, выдан ранее.", "123-456-789 64"),
    ("RU_SNILS", "ru", "СНИЛС {}, выдан ранее.", "987-654-321 83"),
    ("RU_SNILS", "ru", "СНИЛС {}, выдан ранее.", "100-200-300 30"),
    ("RU_INN", "ru", "ИНН {} указан в справке.", "123456789047"),
    ("RU_INN", "ru", "ИНН {} указан в справке.", "1234567894"),
    ("RU_INN", "ru", "ИНН {} указан в справке.", "7707083893"),
    ("RU_INN", "ru", "ИНН {} указан в справке.", "770708389324"),
    ("RU_PASSPORT", "ru", "Паспорт {} выдан ОВД.", "45 06 123456"),
    ("RU_PASSPORT", "ru", "Паспорт {} выдан ОВД.", "4506 123456"),
    ("RU_PASSPORT", "ru", "Паспорт {} выдан ОВД.", "4506 № 123456"),
    ("RU_OMS", "ru", "Полис ОМС {} действителен.", "2341998071655749"),
    ("RU_OMS", "ru", "Полис ОМС {} действителен.", "1234567890123452"),
    ("KZ_IIN", "kk", "ИИН {}, обратилась в центр.", "061211600012"),
    ("KZ_IIN", "kk", "ИИН {}, обратилась в центр.", "900101312348"),
    ("KZ_IIN", "kk", "ИИН {}, обратилась в центр.", "870315404213"),
    ("KZ_IIN", "kk", "ИИН {}, обратилась в центр.", "051224500072"),
    ("KZ_IIN", "kk", "ИИН {}, обратилась в центр.", "850412300704"),
]

INVALID = [
    ("GR_AMKA", "el", "ΑΜΚΑ: {}.", "01013099999"),
    ("GR_AMKA", "el", "ΑΜΚΑ: {}.", "15038512348"),
    ("GR_AMKA", "el", "ΑΜΚΑ: {}.", "31028500010"),
    ("GR_AFM", "el", "ΑΦΜ {}.", "123456781"),
    ("GR_AFM", "el", "ΑΦΜ {}.", "123456780"),
    ("SE_PERSONNUMMER", "sv", "Personnummer {}.", "880320-0018"),
    ("RU_SNILS", "ru", "СНИЛС {}.", "112-233-445 96"),
    ("RU_INN", "ru", "ИНН {}.", "123456789037"),
    ("RU_INN", "ru", "ИНН {}.", "1234567895"),
    ("RU_OMS", "ru", "Полис ОМС {}.", "2341998071655740"),
    *[("KZ_IIN", "kk", "ИИН {}.", f"85041240036{d}") for d in "0123456789"],
]


@pytest.mark.parametrize(("kind", "lang", "sentence", "value"), VALID)
def test_valid_examples_are_found_with_their_kind(detector: Detector, kind: str, lang: str, sentence: str,
                                                   value: str) -> None:
    assert (kind, value) in found(detector, sentence.format(value), lang)


@pytest.mark.parametrize(("kind", "lang", "sentence", "value"), INVALID)
def test_invalid_examples_are_not_reported_as_their_kind(detector: Detector, kind: str, lang: str,
                                                         sentence: str, value: str) -> None:
    assert kind not in {t for t, _ in found(detector, sentence.format(value), lang)}


@pytest.mark.parametrize(("kind", "value"), [
    ("GR_AMKA", "15038512347"), ("KZ_IIN", "900101312348"), ("SE_PERSONNUMMER", "850709-2388"),
    ("RU_SNILS", "112-233-445 95"), ("RU_OMS", "2341998071655749"),
])
def test_strong_identifiers_need_no_label(detector: Detector, kind: str, value: str) -> None:
    assert found(detector, f"The client brought {value} to the meeting.", "en") == [(kind, value)]


def test_weak_checksums_need_a_label_outside_their_language(detector: Detector) -> None:
    # 10 % of random 9-digit strings pass the AFM check (§4.4): unlabelled in English, not reported.
    assert found(detector, "Parcel 123456783 arrived.", "en") == []
    assert found(detector, "Greek tax number 123456783 on file.", "en") == [("GR_AFM", "123456783")]
    assert found(detector, "Ο αριθμός 123456783 υπάρχει.", "el") == [("GR_AFM", "123456783")]


def test_a_passport_needs_its_label(detector: Detector) -> None:
    assert found(detector, "Код 4506 123456 в системе.", "ru") != [("RU_PASSPORT", "4506 123456")]
    assert found(detector, "серия 4506 номер 123456", "ru") == [("RU_PASSPORT", "4506 номер 123456")]


# --- overlaps between kinds -------------------------------------------------------------


def test_a_checksum_valid_identifier_beats_a_phone_reading(detector: Detector) -> None:
    # 850709-2388 is also a valid US number and 15038512347 a valid US one with trunk 1 (§4.4).
    assert found(detector, "Tel. contact given; ID 850709-2388.", "en") == [("SE_PERSONNUMMER", "850709-2388")]
    assert found(detector, "AMKA 15038512347", "en") == [("GR_AMKA", "15038512347")]


def test_labels_decide_between_identifier_kinds(detector: Detector) -> None:
    # 1234567894 is a valid INN-10; labelled as a passport it is read as one.
    assert found(detector, "ИНН 1234567894", "ru") == [("RU_INN", "1234567894")]
    assert found(detector, "паспорт 1234567894", "ru") == [("RU_PASSPORT", "1234567894")]


def test_separators_decide_between_identifier_kinds(detector: Detector) -> None:
    # 11 digits: an AMKA and, grouped NNN-NNN-NNN NN, a SNILS.
    assert found(detector, "Номер 112-233-445 95 в деле.", "ru") == [("RU_SNILS", "112-233-445 95")]


def test_a_phone_label_beats_a_weak_checksum(detector: Detector) -> None:
    # 9161234567 is an RU mobile number written without the trunk 8.
    assert found(detector, "Тел. 9161234567", "ru") == [("PHONE_NUMBER", "9161234567")]


def test_entities_never_overlap_and_come_in_text_order(detector: Detector) -> None:
    text = "ΑΜΚΑ 03110404971, ΑΦΜ 565075295, τηλ. 6946836732, email a.b@example.gr"
    entities = detector.analyze(text, lang="el")
    assert [e.type for e in entities] == ["GR_AMKA", "GR_AFM", "PHONE_NUMBER", "EMAIL_ADDRESS"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(entities))


# --- phones, e-mail, IBAN ---------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "text", "phone"), [
    ("el", "Κινητό +30 691 234 5678.", "+30 691 234 5678"),
    ("el", "Σταθερό 210 3456789 (πρωί).", "210 3456789"),
    ("sv", "Ring 070-123 45 67 efter lunch.", "070-123 45 67"),
    ("sv", "Växeln 08-12 34 56.", "08-12 34 56"),
    ("ru", "Звонить по номеру 8 (916) 123-45-67.", "8 (916) 123-45-67"),
    ("ru", "Моб. +7 912 345-67-89", "+7 912 345-67-89"),
    ("kk", "Телефон 8 (701) 123-45-67", "8 (701) 123-45-67"),
    ("kk", "Ұялы +7 771 000 9998", "+7 771 000 9998"),
    ("en", "Call (212) 998-3483 tomorrow.", "(212) 998-3483"),
    ("en", "Mobile 07400 123456.", "07400 123456"),
    ("en", "Reached on 0030 691 234 5678.", "0030 691 234 5678"),
])
def test_phones_in_local_and_international_formats(detector: Detector, lang: str, text: str, phone: str) -> None:
    assert found(detector, text, lang) == [("PHONE_NUMBER", phone)]


@pytest.mark.parametrize(("lang", "text"), [
    ("sv", "Ärendenummer 0813691543 registrerat."),
    ("el", "Αρ. φακέλου 2105551234."),
    ("ru", "Дело № 9161234567 закрыто."),
    ("en", "Reference 5186229763 pending."),
    ("en", "Meeting on 12.03.2026, amount 1 234 567,89 EUR, case 1895/55979."),
    ("sv", "Datum 2024-05-12."),
])
def test_case_numbers_dates_and_amounts_are_not_phones(detector: Detector, lang: str, text: str) -> None:
    assert found(detector, text, lang) == []


def test_email_addresses(detector: Detector) -> None:
    text = "Mejla karin.berg+intag@post.example.se eller ΖΚ@παράδειγμα.ελ; ej @handle eller a@b."
    assert found(detector, text, "sv") == [("EMAIL_ADDRESS", "karin.berg+intag@post.example.se"),
                                           ("EMAIL_ADDRESS", "ΖΚ@παράδειγμα.ελ")]


def test_a_phone_number_in_brackets_leaves_the_brackets(detector: Detector) -> None:
    text = "Ring (070-765 43 21) idag, eller (070) 765 43 21."
    assert found(detector, text, "sv") == [("PHONE_NUMBER", "070-765 43 21"), ("PHONE_NUMBER", "(070) 765 43 21")]


def test_ibans_are_checked_mod_97_and_cut_to_their_country_length(detector: Detector) -> None:
    text = ("IBAN GR16 0110 1250 0000 0001 2300 695 och SE45 5000 0000 0583 9825 7466. "
            "Fel: GR16 0110 1250 0000 0001 2300 696")
    assert found(detector, text, "sv") == [("IBAN_CODE", "GR16 0110 1250 0000 0001 2300 695"),
                                           ("IBAN_CODE", "SE45 5000 0000 0583 9825 7466")]


# --- known names ---------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "names", "text", "expected"), [
    ("ru", ("Иван Петров",), "Встреча с Иваном Петровым; Петрова И. не было.", ["Иваном Петровым", "Петрова И."]),
    ("ru", ("Анна Смирнова",), "Передано Анне Смирновой; СМИРНОВА А. подписала.", ["Анне Смирновой", "СМИРНОВА А."]),
    ("ru", ("Иван Петров",), "Иванов пришёл, Иван ушёл.", ["Иван"]),
    ("kk", ("Ерлан Сапаров",), "Ерлан Сапаровқа хабарланды.", ["Ерлан Сапаровқа"]),
    ("el", ("Γιώργος Παπαδόπουλος",), "Ο πατέρας του Γιώργου Παπαδόπουλου ήρθε.", ["Γιώργου Παπαδόπουλου"]),
    ("el", ("Μαρία Κωνσταντίνου",), "Η ΜΑΡΙΑ ΚΩΝΣΤΑΝΤΙΝΟΥ και η μητέρα της Μαρίας.", ["ΜΑΡΙΑ ΚΩΝΣΤΑΝΤΙΝΟΥ", "Μαρίας"]),
    ("sv", ("Karin Berg",), "Karins bror bor vid berget; K. Berg ringde.", ["Karins", "K. Berg"]),
    # Mentions a comma apart run together; initials after the last one go with them.
    ("ru", ("Ольга Петрова",), "Ольга Петрова, Петровой О. В. пришла.", ["Ольга Петрова, Петровой О. В."]),
    ("en", ("John Miller",), "Mr Miller's sister met JOHN MILLER and Miller, John.", ["Miller's", "JOHN MILLER",
                                                                                        "Miller, John"]),
    # First names in -ий keep the и when inflected; ё is often written е.
    ("ru", ("Дмитрий Иванов",), "Встреча с Дмитрием Ивановым. Мать Дмитрия.", ["Дмитрием Ивановым", "Дмитрия"]),
    ("ru", ("Василий Орлов",), "Позвонили Василию; Орлов Василий пришёл.", ["Василию", "Орлов Василий"]),
    ("ru", ("Фёдор Достоевский",), "Книга Достоевского; Федор Достоевский.", ["Достоевского", "Федор Достоевский"]),
    ("ru", ("Илья Попов",), "Говорил с Ильёй Поповым и Ильей.", ["Ильёй Поповым", "Ильей"]),
    # A part under three letters only next to another part of the name ("ek" is also "oak").
    ("sv", ("Linnea Ek",), "Linnea Ek kom. Ek är ett träd.", ["Linnea Ek"]),
    ("en", ("Anna Li",), "Anna Li called; Li was not there.", ["Anna Li"]),
])
def test_known_names_in_any_case_and_inflected_form(detector: Detector, lang: str, names: tuple[str, ...],
                                                    text: str, expected: list[str]) -> None:
    assert [value for kind, value in found(detector, text, lang, names) if kind == "PERSON"] == expected


def test_a_lower_case_word_is_not_a_lone_name_part(detector: Detector) -> None:
    assert found(detector, "Vi gick upp på ett berg.", "sv", ("Karin Berg",)) == []


def test_blank_and_repeated_known_names_are_ignored(detector: Detector) -> None:
    assert found(detector, "Anna kom.", "sv", ("", "  ", "Anna", "Anna")) == [("PERSON", "Anna")]


# --- the API -----------------------------------------------------------------------------------


def test_redact_uses_typed_placeholders_and_reports_offsets_into_the_input(detector: Detector) -> None:
    text = "Karin Berg, 850709-2388, ring 070-123 45 67."
    result = detector.redact(text, lang="sv", known_names=["Karin Berg"])
    assert isinstance(result, Redaction)
    assert result.text == "<PERSON>, <SE_PERSONNUMMER>, ring <PHONE_NUMBER>."
    assert [text[e.start:e.end] for e in result.entities] == ["Karin Berg", "850709-2388", "070-123 45 67"]


def test_redact_with_a_replacement_function(detector: Detector) -> None:
    seen: list[tuple[str, str]] = []

    def replace(entity: Entity, original: str) -> str:
        seen.append((entity.type, original))
        return f"[{len(seen)}]"

    result = detector.redact("ΑΜΚΑ 15038512347, ΑΜΚΑ 01013099997", lang="el", replace=replace)
    assert result.text == "ΑΜΚΑ [1], ΑΜΚΑ [2]"
    assert seen == [("GR_AMKA", "15038512347"), ("GR_AMKA", "01013099997")]


def test_entities_are_frozen_values() -> None:
    entity = Entity("PERSON", 0, 4, 0.9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entity.start = 1  # type: ignore[misc]
    assert {f.name for f in dataclasses.fields(Entity)} == {"type", "start", "end", "score"}
    assert "PERSON" in ENTITY_TYPES


def test_get_detector_is_one_process_wide_instance() -> None:
    assert get_detector() is get_detector()
    assert get_detector().engine == "fast"


def test_an_unknown_language_is_refused_without_echoing_the_text(detector: Detector) -> None:
    with pytest.raises(InvalidInputError) as raised:
        detector.analyze("secret 850709-2388", lang="de")
    assert "850709" not in str(raised.value) and "en, el, sv, ru, kk" in str(raised.value)


def test_text_without_anything_personal(detector: Detector) -> None:
    assert detector.redact("Inget att rapportera.", lang="sv") == Redaction("Inget att rapportera.", [])


def test_numbers_a_space_apart_are_read_apart(detector: Detector) -> None:
    text = "ИИН 640904490831 8 777 123 45 67"
    assert found(detector, text, "kk") == [("KZ_IIN", "640904490831"), ("PHONE_NUMBER", "8 777 123 45 67")]


def test_long_digit_tables_are_read_as_nothing(detector: Detector) -> None:
    # Tens of thousands of digits a space or a "+" apart: no reading, and no quadratic scan.
    for text in ("1 " * 5000 + "1/2", " +1" * 5000, "12 34 56 78 90 " * 2000):
        assert detector.analyze(text, lang="en") == []
