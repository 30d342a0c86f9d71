"""The controlled vocabularies shared by client profiles and vacancies.

Words users speak stay Dutch (trede, route, plaatsingsvorm, beperking). Beperkingen and vacancy
demands (``belasting``) use one vocabulary of *aspects*, so a limitation can be held against a
demand directly: ``tillen`` ernst 3 (cannot lift) against ``tillen`` niveau 3 (heavy lifting).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Trede(IntEnum):
    """Participatieladder step as used in werkmatch (0–5). The official ladder numbers 1–6: official = trede + 1."""

    GEISOLEERD = 0  # official 1: geïsoleerd
    SOCIALE_CONTACTEN = 1  # official 2: sociale contacten buitenshuis
    GEORGANISEERDE_ACTIVITEITEN = 2  # official 3: deelname georganiseerde activiteiten
    ONBETAALD_WERK = 3  # official 4: onbetaald werk (vrijwilligerswerk, werkervaringsplek, stage)
    BETAALD_MET_ONDERSTEUNING = 4  # official 5: betaald werk met ondersteuning
    BETAALD_WERK = 5  # official 6: betaald werk zonder ondersteuning

    @property
    def official_step(self) -> int:
        return int(self) + 1

    @property
    def label(self) -> str:
        return TREDE_LABELS[self]


TREDE_LABELS = {
    Trede.GEISOLEERD: "geïsoleerd",
    Trede.SOCIALE_CONTACTEN: "sociale contacten buitenshuis",
    Trede.GEORGANISEERDE_ACTIVITEITEN: "deelname aan georganiseerde activiteiten",
    Trede.ONBETAALD_WERK: "onbetaald werk",
    Trede.BETAALD_MET_ONDERSTEUNING: "betaald werk met ondersteuning",
    Trede.BETAALD_WERK: "betaald werk",
}


class Route(StrEnum):
    WERK = "werk"
    PERSPECTIEF = "perspectief"
    MEEDOEN = "meedoen"


class Bron(StrEnum):
    """Where a vacancy comes from."""

    WSP = "WSP"
    SCALABOR = "Scalabor"


class VacancyStatus(StrEnum):
    OPEN = "open"
    VERVULD = "vervuld"
    GESLOTEN = "gesloten"


class Plaatsingsvorm(StrEnum):
    """The ladder of placement forms, from far to near the regular labour market."""

    SOCIALE_ACTIVERING = "sociale_activering"
    DAGBESTEDING = "arbeidsmatige_dagbesteding"
    VRIJWILLIGERSWERK = "vrijwilligerswerk"
    WERKERVARINGSPLEK = "werkervaringsplek"
    STAGE = "stage"
    PROEFPLAATSING = "proefplaatsing"
    DETACHERING = "detachering"
    BESCHUT_WERK = "beschut_werk"
    BEGELEID_WERKEN = "begeleid_werken"
    LOONKOSTENSUBSIDIE = "regulier_met_loonkostensubsidie"
    REGULIER = "regulier"


PLAATSINGSVORM_LABELS = {
    Plaatsingsvorm.SOCIALE_ACTIVERING: "sociale activering",
    Plaatsingsvorm.DAGBESTEDING: "arbeidsmatige dagbesteding",
    Plaatsingsvorm.VRIJWILLIGERSWERK: "vrijwilligerswerk",
    Plaatsingsvorm.WERKERVARINGSPLEK: "werkervaringsplek",
    Plaatsingsvorm.STAGE: "stage",
    Plaatsingsvorm.PROEFPLAATSING: "proefplaatsing",
    Plaatsingsvorm.DETACHERING: "detachering",
    Plaatsingsvorm.BESCHUT_WERK: "beschut werk",
    Plaatsingsvorm.BEGELEID_WERKEN: "begeleid werken",
    Plaatsingsvorm.LOONKOSTENSUBSIDIE: "regulier werk met loonkostensubsidie",
    Plaatsingsvorm.REGULIER: "regulier werk",
}


class BeperkingCategorie(StrEnum):
    FYSIEK = "fysiek"
    PSYCHISCH = "psychisch"
    COGNITIEF = "cognitief"
    MEDISCH = "medisch"
    ZORGTAKEN = "zorgtaken"
    TAAL = "taal"


# Aspect -> (category, Dutch label of the demand). Vacancies state a niveau 1–3 per aspect,
# beperkingen an ernst 1–3 per aspect.
ASPECTS: dict[str, tuple[BeperkingCategorie, str]] = {
    "tillen": (BeperkingCategorie.FYSIEK, "tillen"),
    "staan": (BeperkingCategorie.FYSIEK, "lang staan"),
    "lopen": (BeperkingCategorie.FYSIEK, "veel lopen"),
    "bukken": (BeperkingCategorie.FYSIEK, "bukken en knielen"),
    "buitenwerk": (BeperkingCategorie.FYSIEK, "buiten werken"),
    "prikkels": (BeperkingCategorie.PSYCHISCH, "een drukke, prikkelrijke omgeving"),
    "tijdsdruk": (BeperkingCategorie.PSYCHISCH, "werken onder tijdsdruk"),
    "klantcontact": (BeperkingCategorie.PSYCHISCH, "veel klantcontact"),
    "wisselende_taken": (BeperkingCategorie.PSYCHISCH, "wisselende taken zonder vaste structuur"),
    "complexiteit": (BeperkingCategorie.COGNITIEF, "complexe taken"),
    "zelfstandigheid": (BeperkingCategorie.COGNITIEF, "zelfstandig werken"),
    "machines": (BeperkingCategorie.MEDISCH, "werken met gevaarlijke machines"),
    "stoffen": (BeperkingCategorie.MEDISCH, "stof, chemicaliën of allergenen"),
    "onregelmatige_tijden": (BeperkingCategorie.ZORGTAKEN, "onregelmatige werktijden"),
    "taal": (BeperkingCategorie.TAAL, "veel Nederlands spreken en lezen"),
}

NIVEAU_LABELS = {1: "laag", 2: "gemiddeld", 3: "hoog"}
ERNST_LABELS = {1: "licht", 2: "matig", 3: "ernstig"}


class Werktijd(StrEnum):
    DAG = "dag"
    AVOND = "avond"
    NACHT = "nacht"
    WEEKEND = "weekend"
    PLOEGEN = "ploegendienst"


class Vervoermiddel(StrEnum):
    LOPEN = "lopen"
    FIETS = "fiets"
    OV = "ov"
    SCOOTER = "scooter"
    AUTO = "auto"


class Rijbewijs(StrEnum):
    AM = "AM"
    B = "B"
    C = "C"
    CE = "CE"
    D = "D"


# Dutch language level (CEFR), in order.
TAALNIVEAUS = ("A0", "A1", "A2", "B1", "B2", "C1", "C2")


class Opleidingsniveau(StrEnum):
    """Highest completed education, in order (the order drives comparisons)."""

    GEEN = "geen"
    BASISONDERWIJS = "basisonderwijs"
    VMBO = "vmbo"
    MBO1 = "mbo1"
    MBO2 = "mbo2"
    HAVO_VWO = "havo_vwo"
    MBO3 = "mbo3"
    MBO4 = "mbo4"
    HBO = "hbo"
    WO = "wo"


OPLEIDING_ORDER = {level: position for position, level in enumerate(Opleidingsniveau)}

SECTOREN = {
    "productie": "productie",
    "logistiek": "logistiek",
    "schoonmaak": "schoonmaak",
    "groen": "groen",
    "horeca": "horeca",
    "retail": "retail",
    "zorg_welzijn": "zorg en welzijn",
    "techniek": "techniek",
    "transport": "transport",
    "administratie": "administratie",
    "bouw": "bouw",
    "facilitair": "facilitair",
    "beveiliging": "beveiliging",
    "kinderopvang_onderwijs": "kinderopvang en onderwijs",
    "ict": "ICT",
    "klantcontact": "klantcontact",
}


# The readiness each plaatsingsvorm asks, on the trede scale (0–5): from sociale activering (0) to a
# regular job (4.5). Read by the structured features and by the synthetic truth alike.
READINESS: dict[str, float] = {
    Plaatsingsvorm.SOCIALE_ACTIVERING: 0.0,
    Plaatsingsvorm.DAGBESTEDING: 0.5,
    Plaatsingsvorm.VRIJWILLIGERSWERK: 1.5,
    Plaatsingsvorm.WERKERVARINGSPLEK: 2.0,
    Plaatsingsvorm.STAGE: 2.5,
    Plaatsingsvorm.BESCHUT_WERK: 2.5,
    Plaatsingsvorm.PROEFPLAATSING: 3.0,
    Plaatsingsvorm.DETACHERING: 3.0,
    Plaatsingsvorm.BEGELEID_WERKEN: 3.0,
    Plaatsingsvorm.LOONKOSTENSUBSIDIE: 3.5,
    Plaatsingsvorm.REGULIER: 4.5,
}
