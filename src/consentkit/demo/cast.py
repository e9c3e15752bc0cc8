"""The demo's cast as data: four services, their staff and their clients, all synthetic.

Every person here is invented. The national identifiers are the public test examples of
the identifier reference (stdnum doctests and computed examples), chosen so that the
birth date they encode is the person's own; young people get birth dates relative to the
demo week so that they are 16 and 22 whenever the demo is played, and carry no identifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["CLIENTS", "FREE_TEXT", "NOTES", "SERVICES", "STAFF", "CaseNote", "Client", "Service", "StaffMember",
           "birth_date"]


@dataclass(frozen=True)
class Service:
    """One of the four front offices the demo follows."""

    key: str
    city: str
    name: str
    jurisdiction: str


@dataclass(frozen=True)
class StaffMember:
    """An actor of the installation and the roles the admin gives them."""

    actor: str
    roles: tuple[str, ...]
    service: str
    title: str


@dataclass(frozen=True)
class Client:
    """A synthetic client: fixed birth date, or an age (years, days) on the demo week's Monday."""

    key: str
    service: str
    name: str
    born: date | tuple[int, int]
    national_id: str | None = None
    language: str | None = None
    relatives: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseNote:
    """A case note in one language, with the names the caseworker knows are in it."""

    lang: str
    client: str
    text: str
    known_names: tuple[str, ...]


SERVICES: dict[str, Service] = {s.key: s for s in (
    Service("athens", "Athens", "OKANA Immediate Social Intervention Service (arrest stage)", "gr"),
    Service("ostersund", "Östersund", "Östersund municipal social services, adult addiction unit", "se"),
    Service("novgorod", "Novgorod", "Novgorod social support service for people who use drugs", "ru"),
    Service("almaty", "Almaty", "Almaty 'Narkostop' counselling front office", "kz"),
)}

STAFF: tuple[StaffMember, ...] = (
    StaffMember("athens.eleni", ("caseworker",), "athens", "social worker"),
    StaffMember("athens.kostas", ("supervisor",), "athens", "unit head"),
    StaffMember("ostersund.sara", ("caseworker",), "ostersund", "socialsekreterare"),
    StaffMember("ostersund.johan", ("supervisor",), "ostersund", "enhetschef"),
    StaffMember("novgorod.irina", ("caseworker",), "novgorod", "social worker"),
    StaffMember("novgorod.pavel", ("supervisor",), "novgorod", "head of service"),
    StaffMember("almaty.aigerim", ("caseworker",), "almaty", "counsellor"),
    StaffMember("almaty.nurlan", ("supervisor",), "almaty", "head of office"),
    StaffMember("almaty.saule", ("supervisor",), "almaty", "deputy head"),
    StaffMember("dpo.anna", ("dpo",), "all", "data protection officer"),
)

CLIENTS: dict[str, Client] = {c.key: c for c in (
    # Athens: an arrested 16-year-old (his mother signs) and a 22-year-old after a first arrest.
    Client("nikos", "athens", "Νίκος Αλεξίου", (16, 75), language="el", relatives=("Δήμητρα Αλεξίου",)),
    Client("giorgos", "athens", "Γιώργος Μάρκου", (22, 140), language="el", aliases=("Giorgos Markou",)),
    # Östersund: 850709-2388 is a reference personnummer (1985-07-09, F).
    Client("linnea", "ostersund", "Linnea Holmgren", date(1985, 7, 9), "850709-2388", "sv", ("Elias Holmgren",)),
    # Novgorod: SNILS 123-456-789 64 (computed reference example; SNILS encodes no birth date).
    Client("dmitry", "novgorod", "Дмитрий Волков", date(1987, 3, 3), "123-456-789 64", "ru",
           ("Анна Волкова",)),
    # Almaty: IIN 051224500072 (2005-12-24, M) and 900101312348 (1990-01-01, M), reference examples.
    Client("timur", "almaty", "Тимур Ахметов", date(2005, 12, 24), "051224500072", "kk", ("Гульнара Ахметова",)),
    Client("erlan", "almaty", "Ерлан Жаксыбеков", date(1990, 1, 1), "900101312348", "ru"),
)}

NOTES: tuple[CaseNote, ...] = (
    CaseNote("el", "nikos",
             "Ο Νίκος Αλεξίου (16 ετών) προσήχθη στο Α.Τ. Ομονοίας για κατοχή κάνναβης. Η μητέρα του, "
             "Δήμητρα Αλεξίου (ΑΜΚΑ 15038512347, κιν. 691 234 5678), ήρθε στο τμήμα και υπέγραψε τη "
             "συναίνεση για την παραπομπή. Ο Νίκος δέχτηκε τέσσερις συναντήσεις.",
             ("Νίκος Αλεξίου", "Δήμητρα Αλεξίου")),
    CaseNote("sv", "linnea",
             "ASI-intervju med Linnea Holmgren (850709-2388). Linnea beskriver daglig alkoholkonsumtion sedan "
             "i våras och sömnproblem. Linneas son Elias Holmgren, 4 år, bor hos henne. Hon vill ha kontakt med "
             "beroendemottagningen. Telefon 070-123 45 67.",
             ("Linnea Holmgren", "Elias Holmgren")),
    CaseNote("ru", "dmitry",
             "Дмитрий Волков (СНИЛС 123-456-789 64) обратился за помощью, подписал письменное согласие. "
             "Со слов Волкова, употребляет опиоиды три года. Мать, Анна Волкова, просит перезвонить: "
             "+7 912 345-67-89.",
             ("Дмитрий Волков", "Анна Волкова")),
    CaseNote("kk", "timur",
             "Тимур Ахметов (ЖСН 051224500072) кеңес алу үшін келді. Анасы Гульнара Ахметова ұлы туралы "
             "сұрады, біз ақпарат бермедік. Байланыс телефоны: +7 771 000 9998.",
             ("Тимур Ахметов", "Гульнара Ахметова")),
    CaseNote("en", "giorgos",
             "Giorgos Markou, 22, was brought in after his first arrest. Giorgos agreed to four counselling "
             "sessions; reach him at +30 691 234 5678 or giorgos.markou@example.org.",
             ("Giorgos Markou",)),
)

#: What staff type during the week; consentkit stores each only sealed under the client's key.
FREE_TEXT: dict[str, str] = {
    "refusal-witness": "Johan, enhetschef",
    "welfare-justification": "Home visit: the 4-year-old was alone in the flat; the mother came home intoxicated.",
    "break-glass-justification": "Collapsed in the office after using, not responsive; the ambulance crew asked "
                                 "what he took.",
    "investigator-justification": "Written request of the investigator in a criminal case about a theft.",
    "investigator-reference": "247100031000123",
    "hold-reason": "Criminal case 247100031000123: keep the file until the case ends.",
    "sip-withdrawal-reason": "Vill inte längre att regionen är med.",
}


def birth_date(client: Client, monday: date) -> date:
    """The client's birth date; an age is taken on the demo week's Monday (29 February safe)."""
    if isinstance(client.born, date):
        return client.born
    years, days = client.born
    year = monday.year - years
    anniversary = monday.replace(year=year, day=28) if (monday.month, monday.day) == (2, 29) \
        else monday.replace(year=year)
    return anniversary - timedelta(days=days)
