"""Dutch job pairs for fine-tuning the embedder, built from sources other than the evaluation sets.

Sources (``werkmatch embeddings finetune`` writes them to a pairs file first, so a run can be
repeated and inspected):

* **taxonomy**: an occupation's label or one of its synonyms (``data/beroepen.csv``) → a short
  description made of the labels of its competences (``data/competenties.csv``);
* **lay paraphrases → vacancies**: generated vacancies of the synthetic world
  (:func:`training.synthetic.iter_batches`, vacancies only) as ``title – first sentences``; the query
  is generated from the vacancy's occupation as a client or consulent would put it: a synonym or a
  competence in lay templates, sometimes with a typo, rarely the occupation's own label.

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


def build_pairs(vacancies: int = 1200, seed: int = 0, taxonomy: Taxonomy | None = None) -> list[Pair]:
    """Taxonomy pairs and lay-query → vacancy pairs, each query and document once, interleaved.

    A generated query or document that an evaluation file holds (a bare synonym can be a query
    there) is left out, so the file passes :func:`read_training_pairs`.
    """
    taxonomy = taxonomy or load_taxonomy()
    rnd = random.Random(seed)
    seen = {
        f"{side} {_key(text)}"
        for pairs in _evaluation_files(None).values()
        for _, *texts in pairs
        for side, text in zip("qd", texts, strict=True)
    }
    unique: list[Pair] = []
    for pair in [*taxonomy_pairs(taxonomy, rnd), *vacancy_pairs(taxonomy, vacancies, seed, rnd)]:
        keys = (f"q {_key(pair.query)}", f"d {_key(pair.document)}")
        if not seen.intersection(keys):
            seen.update(keys)
            unique.append(pair)
    return interleave(unique, rnd)


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
