"""Gender counterfactual with the real search: one gendered job word in a client's own description.

For every word pair (feminine, masculine), one vacancy of a synthetic world is rewritten in the
usual masculine/neutral form ("Schoonmaker", "Wij zoeken een schoonmaker…"), and the 20th client of
its list describes themself with that one word ("Ik heb jaren als schoonmaakster gewerkt en wil dat
weer doen."), once with the masculine and once with the feminine word (the same client, nothing else
changes; the index re-embeds the changed text with the real model); the real candidate search
(``Matcher.search_candidates``, top 100, not served, nothing written) ranks the vacancy's list both
times (:func:`training.counterfactual.search_counterfactual`). Per pair: the client's two ranks; per list: rank-biased
overlap (p = 0.9) of the two whole lists. Goal (issue 19, item 5): both in the list, ranks at most
5 apart, RBO ≥ 0.95 for every pair. Pairs come from the rules (:func:`training.counterfactual.rule_pairs`,
a fixed random sample) and from a held-out file (``--heldout``: default ``data/eval/gendered_heldout.tsv``,
written before the rules; ``data/eval/gendered_heldout2.tsv``, written after them by someone else and read
once), reported separately.

    .venv/bin/python bench/gendered_counterfactual.py --out bench/results/gendered-counterfactual.json
    .venv/bin/python bench/gendered_counterfactual.py --heldout data/eval/gendered_heldout2.tsv \
        --out bench/results/gendered-counterfactual-heldout2.json

``--without-fold`` switches the fold off on both paths (``matching.text`` and BM25), as a baseline
of what the model and the stemmer do on their own. ``--before-after`` runs every pair twice in one
run, on one world and with one ranker: with the -ster rule as it was before -ster on an agent-noun
stem (:func:`previous_ster_rule`, commit f92daef) and with the current one, a controlled comparison.
``--data-dir`` runs on a copy of an existing world (``cp -a /tmp/wm-demo /tmp/x``: its clients,
vacancies, index and model) instead of generating one. ``--count-pieces`` counts, on the demo world
(9,000 clients, 3,000 vacancies, seed 42), the distinct pieces the first start embeds (the embedding
cache's unit, ``embedding.compose = "fields"``) with and without the fold, and how many the fold changed.
``--fold-table`` loads no model: what the fold makes of each feminine form of ``--heldout`` (the word as
the embedder reads it, :func:`matching.gendered.neutral_text`): the intended masculine, another word, or
itself.

The ranker is pinned: the ranks a pair gets depend on the model that orders the list, and the ninth set's ranks moved
when ``models/baseline-ranker`` was retrained (52bf592: the shipped baseline reads the notes column), so runs of one
set before and after a rule change compare only on one model. By default the run orders with the baseline of
:data:`PINNED_RANKER` (``git archive 8dcb8e9 models/baseline-ranker`` of this repository: the shipped baseline with the
notes column and the experience column capped at 3 years, session 45), whatever ``models/baseline-ranker`` holds now;
``--ranker-dir DIR`` takes a baseline directory instead (e.g. the same files extracted once, for a run from an export
without ``.git``), and ``--shipped-ranker`` the one the settings name (``models/baseline-ranker``). The result names the
ranker it used. Runs before session 45 ordered with the 25-feature baseline of 52bf592~1, which this code refuses (its
experience column was renamed when capped): such a run needs an export of 0f9dd61 or older. A ranker the code refuses
stops the run (the matcher would otherwise order by the weighted score and the result would name the wrong model);
``--allow-weighted`` lets it order by the weighted score, named as such in the result.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

import matching.gendered_rules
import matching.lexical
import matching.text
from matching.domain import Client, Vacancy
from matching.gendered import fold, neutral_form, neutral_text
from matching.matcher import Matcher
from matching.settings import RankerSettings, Settings
from matching.taxonomy import load_taxonomy
from matching.text import client_fields, vacancy_fields
from training.counterfactual import read_heldout, rule_pairs, search_counterfactual
from training.synthetic import generate, write_to_db

TOP = 100
REPO = Path(__file__).resolve().parents[1]
HELDOUT = REPO / "data" / "eval" / "gendered_heldout.tsv"
# The shipped baseline of session 45 (notes column, experience capped at 3 years): the reference of every run from then
# on. Before: 52bf592~1 (25 features), which this code refuses.
PINNED_RANKER = "8dcb8e9"
RANKER_PATH = "models/baseline-ranker"


def pinned_ranker(into: Path, commit: str = PINNED_RANKER, repo: Path = REPO) -> Path:
    """The baseline ranker directory of ``commit``, extracted from ``repo``'s git history into ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", commit, RANKER_PATH], check=True, capture_output=True
    ).stdout
    archive_path = into / "ranker.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(into, filter="data")
    return into / RANKER_PATH


def summary(rows: list[dict]) -> dict:
    differences = [row["rankDifference"] for row in rows if row["rankDifference"] is not None]
    return {
        "pairs": len(rows),
        "bothListed": sum(row["bothListed"] for row in rows),
        "withinFiveRanks": sum(row["bothListed"] and row["rankDifference"] <= 5 for row in rows),
        "maxRankDifference": max(differences) if differences else None,
        "meanRbo": round(float(np.mean([row["rbo"] for row in rows])), 4),
        "minRbo": round(float(np.min([row["rbo"] for row in rows])), 4),
        "rboAtLeast095": sum(row["rbo"] >= 0.95 for row in rows),
        "foldedByRules": sum(row["folds"] for row in rows),
        "goalMet": all(row["bothListed"] and row["rankDifference"] <= 5 and row["rbo"] >= 0.95 for row in rows),
        "failures": [
            row for row in rows if not (row["bothListed"] and row["rankDifference"] <= 5 and row["rbo"] >= 0.95)
        ],
    }


CURRENT_RULE = matching.gendered_rules.masculine_candidates


def previous_ster_rule(word: str) -> tuple[list[str], bool]:
    """:func:`matching.gendered.masculine_candidates` before commit "-ster on an agent-noun stem": every
    -ster stem went through the agent candidates and the known-word check ("tuinierster" → "tuinierder")."""
    if word.endswith("ster") and len(word) > 6:
        return matching.gendered_rules._agent_candidates(word[:-4]), False
    return CURRENT_RULE(word)


def use_rule(rule: object) -> None:
    """Fold with ``rule`` from now on (both paths call :func:`matching.gendered.neutral_form`, whose rules call
    :func:`matching.gendered_rules.masculine_candidates`)."""
    matching.gendered_rules.masculine_candidates = rule  # type: ignore[assignment]
    neutral_form.cache_clear()


def words_the_change_folds(matcher: Matcher) -> list[str]:
    """Words of the world's own texts that the previous and the current -ster rule fold differently."""
    with Session(matcher.engine) as session:
        texts = [c.zelfbeschrijving or "" for c in session.exec(select(Client))]
        texts += [f"{v.titel} {v.omschrijving}" for v in session.exec(select(Vacancy))]
    words = {fold(word) for text in texts for word in re.findall(r"[^\W\d_]+", text)}
    use_rule(previous_ster_rule)
    before = {word: neutral_form(word) for word in words}
    use_rule(CURRENT_RULE)
    return sorted(word for word in words if neutral_form(word) != before[word])


def run_pairs(matcher: Matcher, vacancies: list[int], sets: dict[str, list[tuple[str, str]]]) -> dict:
    """:func:`search_counterfactual` for every pair of every set, one vacancy after another."""
    results: dict = {}
    turn = 0
    for name, pairs in sets.items():
        rows = []
        for feminine, masculine in pairs:
            row = search_counterfactual(matcher, vacancies[turn % len(vacancies)], feminine, masculine, TOP)
            rows.append(row | {"folds": neutral_form(feminine) == masculine})
            turn += 1
        results[name] = {"summary": summary(rows), "pairs": rows}
    return results


def count_pieces(data_dir: Path) -> dict:
    """Distinct embedded pieces of the demo world with the fold and without it."""
    matcher = Matcher(Settings(data_dir=data_dir), may_write=True)
    demo = matcher.settings
    write_to_db(matcher.engine, generate(demo.demo_clients, demo.demo_vacancies, seed=demo.demo_seed), progress=False)
    taxonomy = load_taxonomy()
    with Session(matcher.engine) as session:
        records = [client_fields(c, taxonomy) for c in session.exec(select(Client))]
        records += [vacancy_fields(v, taxonomy) for v in session.exec(select(Vacancy))]
    folded = {piece for fields in records for pieces in fields.values() for piece in pieces}
    matching.text.neutral_text = str  # type: ignore[assignment]
    with Session(matcher.engine) as session:
        plain = [client_fields(c, taxonomy) for c in session.exec(select(Client))]
        plain += [vacancy_fields(v, taxonomy) for v in session.exec(select(Vacancy))]
    unfolded = {piece for fields in plain for pieces in fields.values() for piece in pieces}
    return {
        "records": len(records),
        "distinctPiecesWithFold": len(folded),
        "distinctPiecesWithoutFold": len(unfolded),
        "piecesTheFoldChanged": len(unfolded - folded),
        "recordsTheFoldChanged": sum(a != b for a, b in zip(records, plain, strict=True)),
    }


def fold_table(path: Path) -> dict:
    """Each held-out pair's feminine form as the fold leaves it: the masculine, another word, or unchanged."""
    rows = []
    for feminine, masculine, _ in read_heldout(path):
        folded = neutral_text(feminine)
        outcome = "masculine" if folded == masculine else "unchanged" if folded == feminine else "other"
        rows.append({"feminine": feminine, "masculine": masculine, "folded": folded, "outcome": outcome})
    tally = Counter(row["outcome"] for row in rows)
    counts = {outcome: tally[outcome] for outcome in ("masculine", "other", "unchanged")}
    return {"pairs": len(rows), **counts, "notToTheMasculine": [row for row in rows if row["outcome"] != "masculine"]}


def require_ranker(ranking: dict, allow_weighted: bool) -> None:
    """Stop the run when the matcher refused the ranker it was given (``ranking``: :meth:`Matcher.ranker_status`),
    unless ``allow_weighted``: its lists would be the weighted score's, not the model's the result names."""
    if ranking.get("error") and not allow_weighted:
        raise SystemExit(f"the ranker was refused, so the lists would be the weighted score's: {ranking['error']}")


def chosen_ranker(args: argparse.Namespace, tmp: Path) -> tuple[Path, str]:
    """The baseline ranker directory the run orders with, and how the result names it."""
    if args.shipped_ranker:
        return RankerSettings().baseline_dir, "shipped (models/baseline-ranker now)"
    if args.ranker_dir is not None:
        return args.ranker_dir, str(args.ranker_dir)
    return pinned_ranker(tmp), f"git archive {PINNED_RANKER} {RANKER_PATH}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=600)
    parser.add_argument("--vacancies", type=int, default=80)
    parser.add_argument("--rule-pairs", type=int, default=40, help="a random sample of the generated singular pairs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--without-fold", action="store_true", help="baseline: no folding on either path")
    parser.add_argument("--count-pieces", action="store_true", help="first-start pieces with and without the fold")
    parser.add_argument("--before-after", action="store_true", help="the previous and the current -ster rule, one run")
    parser.add_argument("--data-dir", type=Path, help="a copy of an existing world instead of a generated one")
    parser.add_argument("--heldout", type=Path, default=HELDOUT, help="the held-out pairs file (read_heldout's format)")
    parser.add_argument("--fold-table", action="store_true", help="what the fold makes of each held-out form, no model")
    ranker = parser.add_mutually_exclusive_group()
    ranker.add_argument("--ranker-dir", type=Path, help=f"a baseline ranker directory (default: {PINNED_RANKER}'s)")
    ranker.add_argument("--shipped-ranker", action="store_true", help="the ranker models/baseline-ranker holds now")
    parser.add_argument(
        "--allow-weighted", action="store_true", help="order by the weighted score where the ranker is refused"
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.fold_table or args.count_pieces:
        if args.fold_table:
            found = fold_table(args.heldout)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                found = count_pieces(Path(tmp) / "var")
        text = json.dumps({"command": " ".join(["bench/gendered_counterfactual.py", *sys.argv[1:]]), **found}, indent=2)
        print(text)
        if args.out:
            args.out.write_text(text + "\n", encoding="utf-8")
        return
    if args.without_fold:
        matching.text.neutral_text = str  # type: ignore[assignment]  # the identity on a text
        matching.lexical.neutral_form = str  # type: ignore[assignment]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        ranker_dir, ranker_source = chosen_ranker(args, Path(tmp))
        settings = Settings(data_dir=args.data_dir or Path(tmp) / "var", ranker=RankerSettings(baseline_dir=ranker_dir))
        matcher = Matcher(settings)
        require_ranker(matcher.ranker_status(), args.allow_weighted)
        if args.data_dir is None:
            write_to_db(matcher.engine, generate(args.clients, args.vacancies, seed=args.seed), progress=False)
        matcher.sync()
        with Session(matcher.engine) as session:
            vacancies = [v.id for v in session.exec(select(Vacancy).order_by(Vacancy.id)) if v.is_open]
        singular = [(f, m) for f, m, _ in rule_pairs() if not m.endswith(("s", "en"))]
        sets = {
            "rules": random.Random(args.seed).sample(singular, min(args.rule_pairs, len(singular))),
            "heldout": [(f, m) for f, m, _ in read_heldout(args.heldout)],
        }
        if args.before_after:
            changed_words = words_the_change_folds(matcher)
            use_rule(previous_ster_rule)
            before = run_pairs(matcher, vacancies, sets)
            use_rule(CURRENT_RULE)
            results = {"before": before, "after": run_pairs(matcher, vacancies, sets)}
        else:
            results = run_pairs(matcher, vacancies, sets)
        ranking = matcher.ranker_status()
        matcher.close()
    world = {"dataDir": str(args.data_dir)} if args.data_dir else {"clients": args.clients, "vacancies": args.vacancies}
    out = {
        "command": " ".join(["bench/gendered_counterfactual.py", *sys.argv[1:]]),
        "world": world | {"seed": args.seed, "top": TOP},
        "heldoutFile": str(args.heldout),
        "ranking": ranking,
        "rankerSource": ranker_source,
        "fold": not args.without_fold,
        "seconds": round(time.perf_counter() - started, 1),
        **({"worldWordsTheChangeFolds": changed_words} if args.before_after else {}),
        **results,
    }
    text = json.dumps(out, indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    variants = results if args.before_after else {"": results}
    brief = {
        f"{variant} {name}".strip(): sets_[name]["summary"] | {"failures": len(sets_[name]["summary"]["failures"])}
        for variant, sets_ in variants.items()
        for name in sets_
    }
    print(json.dumps(brief, indent=2))


if __name__ == "__main__":
    main()
