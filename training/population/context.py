"""What every chunk of one generation run shares: taxonomy, region, consulenten and employers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from matching.taxonomy import Taxonomy, load_taxonomy
from training.population.catalogue import Catalogue
from training.population.region import Employer, Region, consulenten, employers


@dataclass(frozen=True)
class Context:
    """Everything shared by all chunks of one generation run."""

    seed: int
    reference_date: date
    catalogue: Catalogue
    region: Region
    consulenten: dict[str, tuple[tuple[str, float], ...]]  # gemeente -> (code, thoroughness)
    employers: dict[str, tuple[Employer, ...]]  # sector -> employers


def build_context(
    n_clients: int,
    n_vacancies: int,
    seed: int,
    reference_date: date,
    taxonomy: Taxonomy | None,
    gemeenten: int | None = None,
) -> Context:
    """The shared part of a run: consulenten sized to ``n_clients``, employers to ``n_vacancies``.

    ``gemeenten``: the region's this many largest gemeenten (None: all; :meth:`Region.build`).
    """
    catalogue = Catalogue.build(taxonomy or load_taxonomy())
    region = Region.build(gemeenten)
    return Context(
        seed=seed,
        reference_date=reference_date,
        catalogue=catalogue,
        region=region,
        consulenten=consulenten(seed, region, n_clients),
        employers=employers(seed, region, catalogue, n_vacancies),
    )
