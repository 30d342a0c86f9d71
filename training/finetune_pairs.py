"""Dutch job pairs for fine-tuning the embedder, built from sources other than the evaluation sets.

Sources (``werkmatch embeddings finetune`` writes them to a pairs file first, so a run can be
repeated and inspected):

* **taxonomy**: an occupation's label or one of its synonyms (``data/beroepen.csv``) → a short
  description made of the labels of its competences (``data/competenties.csv``);
* **lay paraphrases → vacancies**: generated vacancies of the synthetic world
  (:func:`training.synthetic.iter_batches`, vacancies only) as ``title – first sentences``; the query
  is generated from the vacancy's occupation as a client or consulent would put it: a synonym or a
  competence in lay templates, sometimes with a typo, rarely the occupation's own label;
* **detail pairs** (optional, ``detail_vacancies``): vacancies of another generated world, four of
  one occupation in one batch, each asked for by a lay query plus a detail the others lack
  (:func:`detail_groups`): hard in-batch negatives.

Nothing here reads ``data/eval``; :func:`read_training_pairs` refuses a file with an empty row, a
repeated query or document, or a query or document that an evaluation file also holds, naming the
line. Rows are written so that consecutive rows have different occupations: the trainer takes
batches as consecutive rows (in-batch negatives), so two vacancies of the same occupation never
serve as each other's negative within a batch of up to the number of occupations.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from matching.domain import VacancyIn
from matching.taxonomy import OccupationDef, Taxonomy, load_taxonomy
from training.embedding_eval import _key, check_leaks, numbered_pairs, pair_files
from training.synthetic import iter_batches

EVAL_DIR = Path(__file__).resolve().parents[1] / "data" / "eval"

CLIENT_TEMPLATES = (
    "ik heb {jaren} jaar {beroep} gedaan en wil dat weer",
    "vroeger werkte ik als {beroep}",
    "ik kan goed {skill}, iets in die richting lijkt me leuk",
    "het liefst iets met {skill}",
    "ik wil werk waar ik {skill} en {skill2} kan",
    "heb ervaring met {skill}, zoek weer zoiets",
    "ik zou graag {beroep} worden",
    "iets met {skill} of {skill2}, maakt niet uit waar",
    "ik ben handig met {skill} en wil graag aan de slag",
    "eh ja ik heb dus {skill} gedaan, dat vond ik wel leuk",
)
NOTE_TEMPLATES = (
    "klt ervr {beroep} {jaren} jr, wil weer aan de slag",
    "zoekt werk als {beroep}; kan {skill}",
    "wens: {beroep}. ervaring met {skill}",
    "klt wil {skill}, eerder {beroep} geweest",
    "ervr. {skill} en {skill2}, zoekt iets vergelijkbaars",
    "intake: wil richting {beroep}, {skill} gaat goed",
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# The generated vacancy's intro names its town as "in <Town>" or "(<Town>)".
PLACE = re.compile(r"\bin ([A-Z][\w'-]+(?:[ -][A-Z][\w'-]+)*)|\(([^)]+)\) heeft plek")
# The sentences of a generated vacancy (after its intro and tasks) that hold a detail a query can ask for.
DETAIL_WORDS = ("jobcoach", "Nederlands op", "Werktijden", "loonkostensubsidie")
TIME_PHRASES = {
    "dag": ("overdag", "alleen dagdienst", "werkt graag overdag"),
    "avond": ("'s avonds", "avondwerk", "alleen avond"),
    "nacht": ("nachtdienst", "'s nachts werken geen probleem", "wil nachtwerk"),
    "weekend": ("ook weekend", "wknd ok", "in het weekend"),
    "ploegendienst": ("ploegendienst ok", "kan in ploegen", "2-ploegen geen probleem"),
}
SEPARATORS = (", ", "; ", ". ", " - ")


@dataclass(frozen=True)
class Pair:
    """One training pair and the occupation it is about (for batching; not written to the file)."""

    occupation: str
    query: str
    document: str


def _typo(text: str, rnd: random.Random) -> str:
    """Drop or swap one letter of one longer word, as quick typing does."""
    words = text.split(" ")
    long_words = [i for i, word in enumerate(words) if len(word) > 5 and word.isalpha()]
    if not long_words:
        return text
    i = rnd.choice(long_words)
    word, at = words[i], rnd.randrange(1, len(words[i]) - 2)
    words[i] = (
        word[:at] + word[at + 1 :] if rnd.random() < 0.5 else word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    )
    return " ".join(words)


def lay_query(occupation: OccupationDef, taxonomy: Taxonomy, rnd: random.Random) -> str:
    """A client's or consulent's words for ``occupation``: a synonym or competences, rarely the label."""
    names = list(occupation.synoniemen) or [occupation.label]
    if rnd.random() < 0.15:
        names.append(occupation.label)
    skills = [taxonomy.competence_label(code).lower() for code in occupation.competenties] or [occupation.label]
    skill, skill2 = rnd.sample(skills, 2) if len(skills) > 1 else (skills[0], skills[0])
    template = rnd.choice(CLIENT_TEMPLATES if rnd.random() < 0.6 else NOTE_TEMPLATES)
    text = template.format(beroep=rnd.choice(names).lower(), skill=skill, skill2=skill2, jaren=rnd.randint(1, 12))
    return _typo(text, rnd) if rnd.random() < 0.3 else text


def vacancy_document(title: str, description: str, max_words: int = 50) -> str:
    """``title – the sentences after the intro``, cut to ``max_words`` words at a sentence end if it can."""
    sentences = SENTENCE_END.split(description.strip())
    kept: list[str] = []
    for sentence in sentences[1:] or sentences:  # the first one introduces the employer
        if kept and len(" ".join(kept + [sentence]).split()) > max_words:
            break
        kept.append(sentence)
    body = " ".join(" ".join(kept).split()[:max_words])
    return f"{title} – {body}"


def taxonomy_pairs(taxonomy: Taxonomy, rnd: random.Random) -> Iterator[Pair]:
    """Label and each synonym → its competences as a short description (a different subset each time)."""
    for occupation in taxonomy.occupations.values():
        skills = [taxonomy.competence_label(code).lower() for code in occupation.competenties]
        for name in (occupation.label, *occupation.synoniemen):
            chosen = rnd.sample(skills, min(len(skills), rnd.randint(3, 5))) if skills else [occupation.sector]
            tasks = ", ".join(chosen[:-1]) + f" en {chosen[-1]}" if len(chosen) > 1 else chosen[0]
            yield Pair(occupation.code, name, f"{occupation.label} – Je taken: {tasks}. Sector: {occupation.sector}.")


def vacancy_pairs(taxonomy: Taxonomy, vacancies: int, seed: int, rnd: random.Random) -> Iterator[Pair]:
    """A lay query → a generated vacancy of the synthetic world, per vacancy with a known occupation."""
    for batch in iter_batches(0, vacancies, seed, taxonomy=taxonomy):
        for vacancy in batch.vacancies:
            occupation = taxonomy.occupations.get(vacancy.beroep_code or "")
            if occupation is not None and vacancy.omschrijving:
                query = lay_query(occupation, taxonomy, rnd)
                yield Pair(occupation.code, query, vacancy_document(vacancy.titel, vacancy.omschrijving))


def _place(description: str) -> str | None:
    """The town of a generated vacancy's intro sentence, if it names one."""
    match = PLACE.search(SENTENCE_END.split(description.strip())[0])
    return next((group for group in match.groups() if group), None) if match else None


def detail_document(vacancy: VacancyIn) -> str:
    """``title – intro, tasks and the sentences with a detail a query can ask for``, and the hours."""
    sentences = SENTENCE_END.split(vacancy.omschrijving.strip())
    sentences = sentences[:2] + [s for s in sentences[2:] if any(word in s for word in DETAIL_WORDS)]
    hours = f"{vacancy.uren_min}-{vacancy.uren_max} uur per week."
    return f"{vacancy.titel} – {' '.join(sentences)} {hours}"


def facets(vacancy: VacancyIn, document: str) -> dict[tuple[str, str], tuple[str, ...]]:
    """What a query could ask of this vacancy that its document shows: (kind, value) → query phrases."""
    out: dict[tuple[str, str], tuple[str, ...]] = {}
    place = _place(vacancy.omschrijving or "")
    if place:
        out["plaats", place] = (f"woont in {place}", f"{place} e.o.", f"liefst in {place}", place.lower())
    for time_ in vacancy.werktijden:
        out["tijd", str(time_)] = TIME_PHRASES[str(time_)]
    if "jobcoach" in document:
        out["jobcoach", ""] = ("met jobcoach", "heeft begeleiding van een jc nodig", "jc nodig", "wil begeleiding")
    out["uren", str(vacancy.uren_max)] = (f"zoekt {vacancy.uren_max} uur", f"max {vacancy.uren_max} u/w")
    if vacancy.taalniveau and vacancy.taalniveau in document:
        out["taal", vacancy.taalniveau] = (f"nederlands {vacancy.taalniveau}", f"taalniveau {vacancy.taalniveau}")
    return out


def distinguishing(shown: list[dict[tuple[str, str], tuple[str, ...]]]) -> list[list[tuple[str, str]]]:
    """Per vacancy of a group, the details (sorted) that no other vacancy of the group shows."""
    return [
        sorted(set(own) - set().union(*(set(other) for j, other in enumerate(shown) if j != i)))
        for i, own in enumerate(shown)
    ]


def detail_groups(
    taxonomy: Taxonomy, vacancies: int, seed: int, rnd: random.Random, group: int = 4
) -> Iterator[list[Pair]]:
    """Groups of ``group`` vacancies of one occupation, each asked for by a detail the others lack.

    The query is a lay or consulent query for the occupation (:func:`lay_query`) with one or two of
    the vacancy's details (town, working time, jobcoach, hours, language level) that no other vacancy
    of its group has; a vacancy without one is left out. In one batch the group's other vacancies
    are then hard negatives that differ from the right one only in what the query asks.
    """
    by_occupation: dict[str, list[VacancyIn]] = {}
    for batch in iter_batches(0, vacancies, seed, taxonomy=taxonomy):
        for vacancy in batch.vacancies:
            if vacancy.beroep_code in taxonomy.occupations and vacancy.omschrijving:
                by_occupation.setdefault(vacancy.beroep_code, []).append(vacancy)
    for code in sorted(by_occupation):
        occupation, found = taxonomy.occupations[code], by_occupation[code]
        for start in range(0, len(found) - group + 1, group):
            documents = [detail_document(vacancy) for vacancy in found[start : start + group]]
            shown = [facets(vacancy, doc) for vacancy, doc in zip(found[start : start + group], documents, strict=True)]
            pairs = []
            for document, own, unique in zip(documents, shown, distinguishing(shown), strict=True):
                if unique:
                    chosen = rnd.sample(unique, min(len(unique), rnd.randint(1, 2)))
                    asked = [rnd.choice(own[key]) for key in chosen]
                    query = f"{lay_query(occupation, taxonomy, rnd)}{rnd.choice(SEPARATORS)}{', '.join(asked)}"
                    pairs.append(Pair(code, query, document))
            if len(pairs) > 1:
                yield pairs


def interleave(pairs: list[Pair], rnd: random.Random) -> list[Pair]:
    """Round-robin over occupations (in a seeded order), so neighbouring rows differ in occupation."""
    groups: dict[str, list[Pair]] = {}
    for pair in pairs:
        groups.setdefault(pair.occupation, []).append(pair)
    order = sorted(groups)
    rnd.shuffle(order)
    for code in order:
        rnd.shuffle(groups[code])
    out: list[Pair] = []
    while any(groups.values()):
        out.extend(groups[code].pop() for code in order if groups[code])
    return out


def _evaluation_files(eval_paths: list[Path] | None) -> dict[Path, list[tuple[int, str, str]]]:
    return {file: numbered_pairs(file) for file in pair_files(eval_paths if eval_paths is not None else [EVAL_DIR])}


def build_pairs(
    vacancies: int = 1200,
    seed: int = 0,
    taxonomy: Taxonomy | None = None,
    detail_vacancies: int = 0,
    batch_size: int = 32,
) -> list[Pair]:
    """Taxonomy pairs and lay-query → vacancy pairs, interleaved; with ``detail_vacancies``, detail batches too.

    Each query and each document occurs once. A generated query or document that an evaluation file
    holds (a bare synonym can be a query there) is left out, so the file passes
    :func:`read_training_pairs`. With ``detail_vacancies`` > 0, :func:`detail_groups` of another
    generated world (seed + 1) fill every second batch of ``batch_size`` rows (groups of different
    occupations, each group's vacancies the others' hard negatives) until they run out.
    """
    taxonomy = taxonomy or load_taxonomy()
    rnd = random.Random(seed)
    seen = {
        f"{side} {_key(text)}"
        for pairs in _evaluation_files(None).values()
        for _, *texts in pairs
        for side, text in zip("qd", texts, strict=True)
    }

    def fresh(pair: Pair) -> bool:
        keys = (f"q {_key(pair.query)}", f"d {_key(pair.document)}")
        if seen.intersection(keys):
            return False
        seen.update(keys)
        return True

    plain = [
        pair for pair in [*taxonomy_pairs(taxonomy, rnd), *vacancy_pairs(taxonomy, vacancies, seed, rnd)] if fresh(pair)
    ]
    plain = interleave(plain, rnd)
    if not detail_vacancies:
        return plain
    groups = [
        kept
        for group in detail_groups(taxonomy, detail_vacancies, seed + 1, rnd)
        if len(kept := [p for p in group if fresh(p)]) > 1
    ]
    rnd.shuffle(groups)
    out: list[Pair] = []
    while groups:
        out += plain[:batch_size]
        plain = plain[batch_size:]
        batch: list[Pair] = []
        for group in list(groups):
            if len(batch) + len(group) <= batch_size and all(p.occupation != group[0].occupation for p in batch):
                batch += group
                groups.remove(group)
        taken = {pair.occupation for pair in batch}  # topped up to a whole batch, other occupations only
        top_up = [i for i, pair in enumerate(plain) if pair.occupation not in taken][: batch_size - len(batch)]
        out += batch + [plain[i] for i in top_up]
        used = set(top_up)
        plain = [pair for i, pair in enumerate(plain) if i not in used]
    return out + plain


def read_training_pairs(path: Path, eval_paths: list[Path] | None = None) -> list[tuple[str, str]]:
    """The pairs of a training file, refused (Dutch, naming the line) if it is malformed or leaks.

    Refused: what :func:`training.embedding_eval.numbered_pairs` refuses (header, empty row, two
    columns, a repeated query or document) and a query or document that one of the evaluation files
    (``data/eval`` by default) also holds.
    """
    pairs = numbered_pairs(path)
    files = _evaluation_files(eval_paths)
    files.pop(path, None)
    files[path] = pairs  # read last: a leak is reported on the training file's line
    check_leaks(files)
    return [(query, document) for _, query, document in pairs]
