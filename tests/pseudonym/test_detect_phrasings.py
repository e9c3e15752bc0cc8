"""Case notes phrased unlike the sample file, in all five languages: every planted entity is
found with its type and exact span, and the numbers that are not personal data (case numbers,
dates, amounts, times, counts) are left alone.

Each note lists its expected entities in text order as ``(type, text)``; ``DECOYS`` are
substrings that must not overlap any entity.
"""

from __future__ import annotations

import pytest

from consentkit.pseudonym.detect import Detector

from .strategies import TODAY

DETECTOR = Detector(today=TODAY)

NOTES = [
    pytest.param(
        "en", ("Amina Yusuf", "Omar Yusuf"),
        "Home visit 14/03/2026 at 10:30. Amina Yusuf's brother Omar (mob. +44 7400 123456) says the rent "
        "arrears are £1,240.50. Her Swedish samordningsnummer is 850769-2385; invoice 2026-0042.",
        [("PERSON", "Amina Yusuf's"), ("PERSON", "Omar"), ("PHONE_NUMBER", "+44 7400 123456"),
         ("SE_PERSONNUMMER", "850769-2385")],
        ["14/03/2026", "10:30", "1,240.50", "2026-0042"], id="en-home-visit"),
    pytest.param(
        "en", ("Dimitris Nikolaou",),
        "Phone call from D. Nikolaou re: AMKA 15038512347 and VAT no. EL 094259216. "
        "He can be reached at dimitris.n@example.gr or (212) 998-3483. 3 sessions left, room 204.",
        [("PERSON", "D. Nikolaou"), ("GR_AMKA", "15038512347"), ("GR_AFM", "EL 094259216"),
         ("EMAIL_ADDRESS", "dimitris.n@example.gr"), ("PHONE_NUMBER", "(212) 998-3483")],
        ["3 sessions", "204"], id="en-phone-call"),
    pytest.param(
        "el", ("Ελένη Δημητρίου", "Νίκος Δημητρίου"),
        "Η κα Δημητρίου επικοινώνησε στις 09:15 από το σταθερό 2310 555123. Ο σύζυγός της Νίκος "
        "(ΑΦΜ 123456783) ζήτησε ραντεβού για τις 21.05.2026. Προσωπικός ΑΜΚΑ της Ελένης: 01013099997. "
        "Οφειλή 1.250,00 €, πρωτόκολλο 4471/2026.",
        [("PERSON", "Δημητρίου"), ("PHONE_NUMBER", "2310 555123"), ("PERSON", "Νίκος"),
         ("GR_AFM", "123456783"), ("PERSON", "Ελένης"), ("GR_AMKA", "01013099997")],
        ["09:15", "21.05.2026", "1.250,00", "4471/2026"], id="el-call"),
    pytest.param(
        "el", ("Γιώργος Παπαδόπουλος",),
        "Ο Γιώργος Παπαδοπούλου δεν ήρθε· ο πατέρας του έδωσε κινητό 697 123 4567 και IBAN "
        "GR16 0110 1250 0000 0001 2300 695 για την επιστροφή των 300 ευρώ.",
        [("PERSON", "Γιώργος Παπαδοπούλου"), ("PHONE_NUMBER", "697 123 4567"),
         ("IBAN_CODE", "GR16 0110 1250 0000 0001 2300 695")],
        ["300 ευρώ"], id="el-refund"),
    pytest.param(
        "sv", ("Lars Nilsson", "Eva Nilsson"),
        "Möte 2026-03-14 kl. 13.00 med Lars Nilsson (19850709-2388) och hans mamma Eva. "
        "Lars nås på 0701-23 45 67, Evas mejl eva.nilsson@post.example.se. Dnr 2026/1234, "
        "bidrag 4 500 kr.",
        [("PERSON", "Lars Nilsson"), ("SE_PERSONNUMMER", "19850709-2388"), ("PERSON", "Eva"),
         ("PERSON", "Lars"), ("PHONE_NUMBER", "0701-23 45 67"), ("PERSON", "Evas"),
         ("EMAIL_ADDRESS", "eva.nilsson@post.example.se")],
        ["2026-03-14", "13.00", "2026/1234", "4 500"], id="sv-meeting"),
    pytest.param(
        "sv", ("Ahmed Hassan",),
        "Orosanmälan: Ahmed Hassans pnr 200101+1234 enligt Skatteverket; telefonnummer saknas, "
        "ring växeln 08-12 34 56. Ärende 7733-2026.",
        [("PERSON", "Ahmed Hassans"), ("SE_PERSONNUMMER", "200101+1234"), ("PHONE_NUMBER", "08-12 34 56")],
        ["7733-2026"], id="sv-concern"),
    pytest.param(
        "ru", ("Ольга Иванова", "Пётр Иванов"),
        "Беседа с Ольгой Ивановой 12.03.2026. Сын Пётр, СНИЛС 123-456-789 64, ИНН 770708389324; "
        "паспорт серии 45 06 № 123456. Связь: +7 (921) 555-12-34. Задолженность 15 300 руб., дело № 17/2026.",
        [("PERSON", "Ольгой Ивановой"), ("PERSON", "Пётр"), ("RU_SNILS", "123-456-789 64"),
         ("RU_INN", "770708389324"), ("RU_PASSPORT", "45 06 № 123456"), ("PHONE_NUMBER", "+7 (921) 555-12-34")],
        ["12.03.2026", "15 300", "17/2026"], id="ru-talk"),
    pytest.param(
        "ru", ("Сергей Волков",),
        "Волкову С. выдано направление; полис 1234567890123452, тел. 8-916-123-45-67, "
        "e-mail volkov.s@example.ru. Срок — 30 дней.",
        [("PERSON", "Волкову С."), ("RU_OMS", "1234567890123452"), ("PHONE_NUMBER", "8-916-123-45-67"),
         ("EMAIL_ADDRESS", "volkov.s@example.ru")],
        ["30 дней"], id="ru-referral"),
    pytest.param(
        "kk", ("Айгүл Серікова", "Нұрлан Серіков"),
        "Айгүл Серікованың ЖСН 900101312348. Күйеуі Нұрлан хабарласты, ұялы телефоны 8 (777) 123 45 67. "
        "Өтініш № 552, 2026 жылғы 5 наурыз.",
        [("PERSON", "Айгүл Серікованың"), ("KZ_IIN", "900101312348"), ("PERSON", "Нұрлан"),
         ("PHONE_NUMBER", "8 (777) 123 45 67")],
        ["552", "2026"], id="kk-kazakh"),
    pytest.param(
        "kk", ("Дина Ахметова",),
        "Клиентка Ахметова Д., ИИН 870315404213, просит перезвонить: +7 701 234 56 78; "
        "IBAN KZ86 125K ZT50 0410 0100. Приём 14:00.",
        [("PERSON", "Ахметова Д."), ("KZ_IIN", "870315404213"), ("PHONE_NUMBER", "+7 701 234 56 78"),
         ("IBAN_CODE", "KZ86 125K ZT50 0410 0100")],
        ["14:00"], id="kk-russian"),
]


@pytest.mark.parametrize(("lang", "names", "text", "expected", "decoys"), NOTES)
def test_other_phrasings(lang: str, names: tuple[str, ...], text: str, expected: list[tuple[str, str]],
                         decoys: list[str]) -> None:
    entities = DETECTOR.analyze(text, lang=lang, known_names=names)
    assert [(e.type, text[e.start:e.end]) for e in entities] == expected
    for decoy in decoys:
        start = text.index(decoy)
        assert not any(e.start < start + len(decoy) and start < e.end for e in entities), decoy
