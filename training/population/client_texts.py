"""What a client writes about themself (lay Dutch) and what their consulent notes (shorthand).

Both reveal hidden factors only partly (a motivated client *usually* sounds motivated; a hidden
beperking is *sometimes* hinted at) and never contain a name, gender, age or migration background.
"""

from __future__ import annotations

import random
from typing import Any

from matching.taxonomy import Taxonomy
from matching.vocab import SECTOREN, TAALNIVEAUS, Route

OPENERS = (
    "Ik ben op zoek naar werk.",
    "Hoi, ik zoek een baan.",
    "Ik wil graag weer aan het werk.",
    "Ik zoek werk in de buurt.",
    "Thuis zitten is niks voor mij, ik wil wat doen.",
    "Ik wil graag iets gaan doen.",
    "Ik zoek een baan waar ik wat kan leren.",
    "ik zoek werk",
    "Ik wil weer meedoen.",
    "Graag wil ik aan de slag.",
)

EXPERIENCE_LINES = (
    "Ik heb {jaren} jaar als {beroep} gewerkt.",
    "Ik heb eerder gewerkt als {beroep}.",
    "Vroeger werkte ik als {beroep}.",
    "Ik heb ervaring als {beroep}.",
    "Heb {jaren} jaar {beroep} gedaan.",
    "Ik heb in de {sector} gewerkt als {beroep}.",
)

NO_EXPERIENCE = (
    "Ik heb nog niet veel gewerkt.",
    "Ik heb geen werkervaring in Nederland.",
    "Ik heb nog nooit echt gewerkt maar wil het graag leren.",
    "Werkervaring heb ik weinig.",
)

WISH_LINES = (
    "Het liefst werk ik als {beroep}.",
    "Ik zou graag {beroep} willen worden.",
    "{beroep} lijkt me leuk.",
    "Ik wil graag werken als {beroep}.",
)

SECTOR_LINES = (
    "Ik zou graag in de {sector} willen werken.",
    "Iets in de {sector} lijkt me leuk.",
    "Liefst iets in de {sector}.",
)

ANYTHING = (
    "Maakt mij niet zoveel uit wat, als ik maar bezig ben.",
    "Ik sta open voor alles.",
    "Ik weet nog niet goed wat ik wil.",
)

SKILL_LINES = (
    "Ik ben goed in {skill}.",
    "Ik kan goed {skill}.",
    "Waar ik goed in ben: {skill}.",
    "Mensen zeggen dat ik goed ben in {skill}.",
)

MOTIVATED = (
    "Ik wil echt graag werken!",
    "Ik ben gemotiveerd en leer snel.",
    "Ik ben altijd op tijd.",
    "Ik wil laten zien wat ik kan.",
    "Ik ben een harde werker.",
    "Ik wil graag een vaste baan.",
)

HESITANT = (
    "Ik wil eerst rustig beginnen.",
    "Werken is voor mij nu nog lastig.",
    "Ik weet niet of ik het al kan.",
    "Ik wil het proberen maar het is spannend.",
    "Eerst wil ik mijn situatie op orde hebben.",
)

LAY_BEPERKING: dict[str, tuple[str, ...]] = {
    "tillen": ("Ik heb last van mijn rug dus geen zwaar werk.", "Zwaar tillen gaat niet meer."),
    "staan": ("Lang staan gaat niet door mijn knie.", "Ik kan niet de hele dag staan."),
    "lopen": ("Veel lopen gaat moeilijk.",),
    "bukken": ("Bukken is lastig voor mij.",),
    "buitenwerk": ("Buiten werken in de kou gaat niet zo goed.",),
    "prikkels": ("Drukte vind ik moeilijk.", "Ik heb een rustige plek nodig."),
    "tijdsdruk": ("Ik kan niet goed tegen stress.", "Als het te snel moet raak ik in de war."),
    "klantcontact": ("Ik werk liever niet met klanten.", "Met veel mensen praten vind ik eng."),
    "wisselende_taken": ("Ik heb duidelijkheid nodig.", "Vaste taken vind ik fijn."),
    "complexiteit": ("Ik leer het beste als iemand het voordoet.",),
    "zelfstandigheid": ("Ik werk graag met iemand samen die me helpt.",),
    "machines": ("Door mijn medicijnen mag ik niet met machines werken.",),
    "stoffen": ("Ik ben allergisch voor stof.",),
    "onregelmatige_tijden": (
        "Ik moet de kinderen van school halen, dus alleen overdag.",
        "Ik zorg voor een familielid, dus vaste tijden graag.",
    ),
    "taal": ("Mijn Nederlands is nog niet zo goed, ik doe mijn best.", "ik spreek nog niet goed nederlands"),
}

HOURS_LINES = (
    "Ik kan {uren} uur per week.",
    "Liefst parttime.",
    "Ik kan {uren} uur in de week werken.",
    "Fulltime is ook goed.",
)

CLOSERS = ("Groetjes", "Bel me maar!", "Alvast bedankt.", "")

MISSPELLINGS = {
    "gewerkt": "gewerkd",
    "graag": "graach",
    "eigenlijk": "eigelijk",
    "misschien": "misschein",
    "natuurlijk": "natuurlik",
    "ervaring": "ervaaring",
    "Nederlands": "nederlans",
    "werken": "werke",
    "moeilijk": "moeilek",
    "kinderen": "kindere",
    "lastig": "lasstig",
    "gemotiveerd": "gemotifeerd",
    "vind": "vindt",
    "liefst": "liefts",
    "allergisch": "alergies",
    "beginnen": "beginne",
}

NOTE_PREFIX = ("n.a.v. diagnosegesprek:", "gesprek gehad:", "intake:", "", "", "")

NOTE_MOTIVATED = ("klt zeer gemotiveerd", "klt gemotiveerd", "wil graag aan de slag", "komt gemotiveerd over")

NOTE_NEUTRAL = ("motivatie ok", "klt staat open voor werk", "redelijk gemotiveerd")

NOTE_UNMOTIVATED = ("motivatie wisselend", "weinig werkzin", "klt ziet werk nog niet zitten", "houdt de boot af")

NOTE_RELIABLE = ("afspraken goed nagekomen", "altijd op tijd", "betrouwbaar, komt afspraken na")

NOTE_UNRELIABLE = ("2x no-show", "afspraken niet altijd nagekomen", "lastig bereikbaar", "vaak te laat")

NOTE_BEPERKING: dict[str, tuple[str, ...]] = {
    "tillen": ("rugklachten → geen zwaar tillen", "schouderklachten, niet tillen"),
    "staan": ("knieklachten → niet lang staan", "afwisselend zitten/staan nodig"),
    "lopen": ("beperkt loopvermogen",),
    "bukken": ("niet veel bukken ivm rug",),
    "buitenwerk": ("liever binnenwerk (longen)",),
    "prikkels": ("snel overprikkeld → rustige werkplek", "prikkelarme omgeving nodig"),
    "tijdsdruk": ("kan slecht tegen tijdsdruk", "burn-out verleden, tempo opbouwen"),
    "klantcontact": ("liever geen klantcontact", "sociale angst, achter de schermen"),
    "wisselende_taken": ("heeft structuur nodig, vaste taken", "moeite met veranderingen"),
    "complexiteit": ("eenvoudige taken, stap voor stap uitleg", "leert in kleine stappen"),
    "zelfstandigheid": ("heeft aansturing nodig", "niet zelfstandig inzetbaar, begeleiding nodig"),
    "machines": ("medisch: niet met gevaarlijke machines",),
    "stoffen": ("allergie → geen stof/chemicaliën",),
    "onregelmatige_tijden": ("zorgtaken → alleen schooltijden", "mantelzorg, vaste werktijden"),
    "taal": ("NL taal beperkt, volgt taalles", "taal is drempel, evt. tolk bij gesprek"),
}

NOTE_HIDDEN_HINT = (
    "lijkt snel gestrest, verder uitvragen",
    "mogelijk psychische klachten?",
    "vermoeden leerproblemen, nog niet getest",
    "klachten niet helder, navragen",
)

NOTE_ROUTE = {
    Route.WERK: ("route werk", "bemiddelbaar", "cv bijwerken en doorzetten naar WSP", "klaar voor werk"),
    Route.PERSPECTIEF: ("route perspectief", "advies: eerst WEP", "traject via Scalabor", "i.o.m. jobcoach opbouwen"),
    Route.MEEDOEN: ("route meedoen", "eerst dagbesteding/vrijwilligerswerk", "geen zicht op betaald werk nu"),
}

NOTE_CLOSERS = (
    "vervolgafspraak over 4 wk",
    "cv nog aanpassen",
    "terugkoppeling WSP",
    "belt zelf terug",
    "huisbezoek gepland",
    "",
)


def _misspell(text: str, rnd: random.Random, rate: float) -> str:
    """Lay-Dutch errors: known misspellings, a dropped or doubled letter, lower case, missing full stops."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if rnd.random() >= rate:
            continue
        bare = word.strip(".,!?")
        if bare in MISSPELLINGS:
            words[i] = word.replace(bare, MISSPELLINGS[bare])
        elif len(bare) > 4:
            j = rnd.randrange(1, len(bare) - 1)
            wrong = bare[:j] + bare[j + 1 :] if rnd.random() < 0.5 else bare[:j] + bare[j] + bare[j:]
            words[i] = word.replace(bare, wrong)
    text = " ".join(words)
    if rnd.random() < 0.4:
        text = text.lower()
    if rnd.random() < 0.3:
        text = text.replace(".", "")
    return text


def _occupation(taxonomy: Taxonomy, code: str) -> str:
    """An occupation's label as a client or consulent writes it: lower case."""
    return taxonomy.occupation_label(code).lower()


def self_description(
    rnd: random.Random, taxonomy: Taxonomy, profile: dict[str, Any], taal: str, motivatie: float
) -> str:
    """First-person lay Dutch; shorter and with more errors for low language levels."""
    if rnd.random() < 0.12:
        return ""
    parts = [rnd.choice(OPENERS)]
    if profile["werkervaring"]:
        item = rnd.choice(profile["werkervaring"])
        occupation = taxonomy.occupations[item["beroep_code"]]
        parts.append(
            rnd.choice(EXPERIENCE_LINES).format(
                jaren=f"{item['jaren']:g}",
                beroep=_occupation(taxonomy, item["beroep_code"]),
                sector=SECTOREN.get(occupation.sector, occupation.sector),
            )
        )
    elif rnd.random() < 0.6:
        parts.append(rnd.choice(NO_EXPERIENCE))
    wensen = profile["wensen"]
    if wensen["beroepen"] and rnd.random() < 0.7:
        line = rnd.choice(WISH_LINES).format(beroep=_occupation(taxonomy, wensen["beroepen"][0]))
        parts.append(line[0].upper() + line[1:])
    elif wensen["sectoren"] and rnd.random() < 0.6:
        parts.append(rnd.choice(SECTOR_LINES).format(sector=SECTOREN.get(wensen["sectoren"][0], wensen["sectoren"][0])))
    elif rnd.random() < 0.4:
        parts.append(rnd.choice(ANYTHING))
    if profile["competenties"] and rnd.random() < 0.5:
        skill = rnd.choice(profile["competenties"])["label"].lower()
        parts.append(rnd.choice(SKILL_LINES).format(skill=skill))
    signal = motivatie + rnd.gauss(0.0, 0.8)  # the text shows motivation, imperfectly
    if signal > 0.7:
        parts.append(rnd.choice(MOTIVATED))
    elif signal < -0.7:
        parts.append(rnd.choice(HESITANT))
    for beperking in profile["beperkingen"]:
        if rnd.random() < 0.45:
            parts.append(rnd.choice(LAY_BEPERKING[beperking["aspect"]]))
    if rnd.random() < 0.35:
        line = rnd.choice(HOURS_LINES)
        if "Fulltime" not in line or profile["uren_max"] >= 36:
            parts.append(line.format(uren=profile["uren_max"]))
    parts.append(rnd.choice(CLOSERS))
    low_language = TAALNIVEAUS.index(taal) <= TAALNIVEAUS.index("A2")
    keep = rnd.randint(1, 3) if low_language or rnd.random() < 0.25 else len(parts)
    text = " ".join(p for p in parts[:keep] if p)
    if low_language or rnd.random() < 0.15:
        text = _misspell(text, rnd, 0.25 if low_language else 0.08)
    return text


def notes(
    rnd: random.Random,
    taxonomy: Taxonomy,
    profile: dict[str, Any],
    route: Route,
    motivatie: float,
    betrouwbaarheid: float,
    hidden: list[str],
) -> str:
    """Consulent shorthand: motivation, reliability, wishes, experience, beperkingen, route, next step."""
    if rnd.random() < 0.08:
        return ""
    fragments = [rnd.choice(NOTE_PREFIX)]
    signal = motivatie + rnd.gauss(0.0, 0.6)
    motivation_bank = NOTE_MOTIVATED if signal > 0.6 else NOTE_UNMOTIVATED if signal < -0.6 else NOTE_NEUTRAL
    fragments.append(rnd.choice(motivation_bank))
    wensen = profile["wensen"]
    if wensen["beroepen"] and rnd.random() < 0.6:
        fragments.append(f"wil graag als {_occupation(taxonomy, wensen['beroepen'][0])}")
    elif wensen["sectoren"] and rnd.random() < 0.5:
        fragments.append(f"interesse in {SECTOREN.get(wensen['sectoren'][0], wensen['sectoren'][0])}")
    if profile["werkervaring"] and rnd.random() < 0.5:
        item = profile["werkervaring"][0]
        fragments.append(f"wrkerv. {_occupation(taxonomy, item['beroep_code'])} ({item['jaren']:g} jr)")
    for beperking in profile["beperkingen"]:
        if rnd.random() < 0.7:
            fragments.append(rnd.choice(NOTE_BEPERKING[beperking["aspect"]]))
    if hidden and rnd.random() < 0.3:
        fragments.append(rnd.choice(NOTE_HIDDEN_HINT))
    reliability_signal = betrouwbaarheid + rnd.gauss(0.0, 0.7)
    if reliability_signal > 1.0:
        fragments.append(rnd.choice(NOTE_RELIABLE))
    elif reliability_signal < -1.0:
        fragments.append(rnd.choice(NOTE_UNRELIABLE))
    if profile["taalniveau"] and rnd.random() < 0.2:
        fragments.append(f"taal {profile['taalniveau']}")
    if rnd.random() < 0.6:
        fragments.append(rnd.choice(NOTE_ROUTE[route]))
    fragments.append(rnd.choice(NOTE_CLOSERS))
    prefix, body = fragments[0], [f for f in fragments[1:] if f]
    separator = rnd.choice((", ", "; ", " / ", ". "))
    text = separator.join(body)
    return f"{prefix} {text}" if prefix else text
