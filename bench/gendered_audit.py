"""Audit of the -vrouw rules on invented input: every dictionary word + "vrouw", what the fold makes of it and why.

The rules of :mod:`matching.gendered_rules` were written from real job words; the fold also meets words nobody
wrote down before. This builds one -vrouw form from every word of the OpenTaal dictionary (three letters or more,
:func:`matching.gendered_lexicon.dictionary_words`: "tafel" → "tafelvrouw", "leeghalen" → "leeghalenvrouw"), folds
it (:func:`matching.gendered.neutral_form`) and sorts each form that folds by the kind of masculine it got, read from
the output and the lexicons (so the same script classifies any version of the rules on ``PYTHONPATH``):

- ``man-job``: a -man or -heer compound that is a known job word at a compound boundary;
- ``man-listed``: a -man compound the dictionary attests (a person noun with the mark "man" or "vrouw"), weighed;
- ``man-goods``: a -man compound nothing attests, after the plural of a thing (``_goods_part``);
- ``man-thing``: a -man compound nothing attests, after a singular noun that names no person (``_thing_part``, session
  43: "kantinevrouw" → kantineman);
- ``agent-job``: an agent noun that is a known job word (or ends in one);
- ``agent-verb``: the -er noun the dictionary lists for the verb after the first part;
- ``agent-formed``: an -er noun formed by rule for a listed verb without one;
- ``irregular``: a compound of an irregular (gastvrouw → gastheer).

and by the kind of its first part: a word of the dictionary that is an infinitive, another word, the plural in -en of
a word, a diminutive, a compound of parts, or none of these. ``--sample N`` draws N folded forms (seeded) to read by
hand; ``--judgements FILE`` (JSON: form → ["plausible" | "implausible", why]) adds the reader's verdicts and counts.

    PYTHONPATH=<old export> .venv/bin/python bench/gendered_audit.py --forms-only --out /tmp/forms-old.json
    PYTHONPATH=<export> .venv/bin/python bench/gendered_audit.py --since /tmp/forms-old.json --out <result>.json
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from pathlib import Path

from matching import gendered_rules
from matching.gendered import neutral_form
from matching.gendered_lexicon import dictionary_words

EXAMPLES = 8  # the first forms of each kind, alphabetically, in the result file
MIN_WORD = 3  # the universe: dictionary words of three letters or more (132,101 of 132,247)


def rule_of(word: str, folded: str) -> str:
    """The kind of masculine ``folded`` is for the -vrouw form ``word`` (see the module docstring)."""
    from matching.gendered_lexicon import IRREGULAR, PERSON_MARKS, is_job_word, is_job_word_at_boundary, person_nouns

    prefix = word[: -len("vrouw")]
    if any(word.endswith(feminine) for feminine in IRREGULAR):
        return "irregular"
    if folded in (prefix + "man", prefix + "heer"):
        if is_job_word_at_boundary(folded):
            return "man-job"
        if is_job_word(folded, person_nouns(PERSON_MARKS[0][1])):
            return "man-listed"
        goods = getattr(gendered_rules, "_goods_part", None)  # rules of any version on PYTHONPATH
        return "man-goods" if goods is None or goods(prefix) else "man-thing"
    if is_job_word(folded):
        return "agent-job"
    if folded in _listed_agents() or any(folded[start:] in _listed_agents() for start in range(1, len(folded) - 3)):
        return "agent-verb"
    return "agent-formed"


_AGENTS: set[str] = set()


def _listed_agents() -> set[str]:
    from matching.gendered_lexicon import verb_agents

    if not _AGENTS:
        _AGENTS.update(agent for agent in verb_agents().values() if agent)
    return _AGENTS


def part_of(prefix: str) -> str:
    """The kind of a -vrouw form's first part."""
    from matching.gendered_lexicon import diminutive_bases, is_compound_prefix, plural_singulars, verb_agents

    words = dictionary_words()
    if prefix in verb_agents():
        return "infinitive"
    if plural_singulars(prefix):
        return "plural"
    if prefix in words:
        return "word"
    if any(base in words for base in diminutive_bases(prefix)):
        return "diminutive"
    if is_compound_prefix(prefix):
        return "compound"
    return "other"


def folded_forms() -> dict[str, str]:
    """Every -vrouw form of the universe that folds → what it folds to."""
    forms = [word + "vrouw" for word in sorted(dictionary_words()) if len(word) >= MIN_WORD]
    return {form: out for form in forms if (out := neutral_form(form)) != form}


def audit(sample: int, seed: int, judgements: dict[str, list[str]], since: dict[str, str] | None) -> dict:
    """The folded forms by kind, or with ``since`` (the folded forms of other rules) the forms that fold otherwise than
    there ("unfolded": folded there, whole here)."""
    started = time.perf_counter()
    folded = folded_forms()
    universe = sum(len(word) >= MIN_WORD for word in dictionary_words())
    if since is not None:
        changed = sorted(form for form in set(folded) | set(since) if folded.get(form, form) != since.get(form, form))
        folded = {form: folded.get(form, form) for form in changed}
    rows = {
        form: (out, rule_of(form, out) if out != form else "unfolded", part_of(form[:-5]))
        for form, out in folded.items()
    }
    by_rule = Counter(rule for _, rule, _ in rows.values())
    by_rule_part = Counter(f"{rule} / {part}" for _, rule, part in rows.values())
    drawn = random.Random(seed).sample(sorted(rows), min(sample, len(rows)))
    result = {
        "universe": universe,
        "folded" if since is None else "foldOtherwise": len(rows),
        "byRule": dict(by_rule.most_common()),
        "byRuleAndFirstPart": dict(by_rule_part.most_common()),
        "sample": [
            {"form": form, "folded": rows[form][0], "rule": rows[form][1], "part": rows[form][2]} for form in drawn
        ],
        "seconds": round(time.perf_counter() - started, 1),
    }
    if judgements:
        for row in result["sample"]:
            if row["form"] in judgements:
                row["verdict"], row["why"] = judgements[row["form"]]
        verdicts = Counter(row.get("verdict", "unjudged") for row in result["sample"])
        result["sampleVerdicts"] = dict(verdicts)
        result["sampleVerdictsByRule"] = dict(
            Counter(f"{row['rule']}: {row.get('verdict', 'unjudged')}" for row in result["sample"]).most_common()
        )
    examples: dict[str, list[str]] = {}
    for form, (out, rule, part) in sorted(rows.items()):
        if len(examples.setdefault(f"{rule} / {part}", [])) < EXAMPLES:
            examples[f"{rule} / {part}"].append(f"{form} → {out}")
    result["examples"] = examples
    result["forms"] = {form: list(row) for form, row in sorted(rows.items())}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--judgements", type=Path)
    parser.add_argument("--forms", type=Path, help="also write every form counted here (a few MB: to compare runs)")
    parser.add_argument("--since", type=Path, help="count the forms that fold otherwise than in this --forms-only file")
    parser.add_argument("--forms-only", action="store_true", help="write --out as {form: folded} only (any rules)")
    args = parser.parse_args()
    if args.forms_only:
        args.out.write_text(json.dumps(folded_forms(), ensure_ascii=False) + "\n", encoding="utf-8")
        return
    judgements = json.loads(args.judgements.read_text(encoding="utf-8")) if args.judgements else {}
    since = json.loads(args.since.read_text(encoding="utf-8")) if args.since else None
    result = audit(args.sample, args.seed, judgements, since)
    forms = result.pop("forms")
    if args.forms:
        args.forms.write_text(json.dumps(forms, ensure_ascii=False) + "\n", encoding="utf-8")
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    summary = {k: v for k, v in result.items() if k not in ("sample", "examples")}
    print(json.dumps(summary, indent=1))  # noqa: T201


if __name__ == "__main__":
    main()
