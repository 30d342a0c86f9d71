"""The truth's view of clients and vacancies: numpy arrays of profile and latent factors.

:func:`build_client_arrays` lays out ``n`` clients (profile in :class:`~matching.domain.Client`
column form plus their :class:`~training.latent.SyntheticLatent` factors) as aligned arrays, and
:func:`build_vacancy_profile` one vacancy, so that :func:`training.latent.evaluate` scores a vacancy
against all clients in one vectorised pass. Columns follow a :class:`Codebook` of the taxonomy.
Gender, birth year and migration background have no field here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching import geo
from matching.compatibility import ASPECT_NAMES
from matching.structured import ASPECT_COLUMN, WERKTIJD_BIT, max_travel_km
from matching.taxonomy import Taxonomy
from matching.vocab import ASPECTS, READINESS, SECTOREN, TAALNIVEAUS, BeperkingCategorie, Plaatsingsvorm, Rijbewijs

LICENCE_BIT = {value.value: 1 << position for position, value in enumerate(Rijbewijs)}
# Holding C, CE or D implies B (and CE implies C): Dutch licences are stacked.
LICENCE_IMPLIES = {"C": ("B",), "CE": ("B", "C"), "D": ("B",)}
PSYCHIC_ASPECTS = np.array([ASPECTS[a][0] == BeperkingCategorie.PSYCHISCH for a in ASPECT_NAMES], bool)


@dataclass(frozen=True)
class Codebook:
    """Column numbers of occupations, sectors, competences and certificates in the truth arrays."""

    occupations: dict[str, int]
    occupation_sector: np.ndarray  # sector column per occupation column
    sectors: dict[str, int]
    competences: dict[str, int]
    certificates: dict[str, int]

    @classmethod
    def from_taxonomy(cls, taxonomy: Taxonomy) -> Codebook:
        """Columns in sorted code order, so the same taxonomy always gives the same layout."""
        occupations = {code: i for i, code in enumerate(sorted(taxonomy.occupations))}
        sector_names = sorted(set(SECTOREN) | {occ.sector for occ in taxonomy.occupations.values()})
        sectors = {name: i for i, name in enumerate(sector_names)}
        occupation_sector = np.array([sectors[taxonomy.occupations[code].sector] for code in occupations], np.int64)
        return cls(
            occupations=occupations,
            occupation_sector=occupation_sector,
            sectors=sectors,
            competences={code: i for i, code in enumerate(sorted(taxonomy.competences))},
            certificates={code: i for i, code in enumerate(sorted(taxonomy.certificates))},
        )


@dataclass
class ClientArrays:
    """Everything the truth needs about ``n`` clients, one row per client (row order = ``ids``).

    Matrices are column-major: the truth reads a few columns (the vacancy's occupation, its
    required competences) of all clients; contiguous columns take one vacancy over 400,000
    clients from ~100 ms to ~65 ms.
    """

    ids: np.ndarray  # (n,) int64
    lat: np.ndarray  # (n,) float64
    lon: np.ndarray
    speed_kmh: np.ndarray  # (n,) float32, fastest stated mode
    overhead_min: np.ndarray
    max_km: np.ndarray  # (n,) float32, straight-line km the client will travel
    uren_min: np.ndarray  # (n,) float32
    uren_max: np.ndarray
    excluded_times: np.ndarray  # (n,) int64 bitmask over Werktijd
    licences: np.ndarray  # (n,) int64 bitmask over Rijbewijs, implications expanded
    certificates: np.ndarray  # (n, n_cert) bool
    experience: np.ndarray  # (n, n_occ) float16 years
    sector_experience: np.ndarray  # (n, n_sector) bool, any experience in the sector
    wished_occupations: np.ndarray  # (n, n_occ) bool
    wished_sectors: np.ndarray  # (n, n_sector) bool, the true wish
    competences: np.ndarray  # (n, n_comp) uint8 true niveau, 0 = absent
    beperkingen: np.ndarray  # (n, n_aspect) uint8 true ernst, 0 = none
    n_beperkingen: np.ndarray  # (n,) float32 true beperkingen, at most 3
    worst_psychic: np.ndarray  # (n,) float32 highest psychic ernst / 3
    language: np.ndarray  # (n,) int8 true index in TAALNIVEAUS
    trede: np.ndarray  # (n,) float32 trede_werkelijk
    motivation: np.ndarray  # (n,) float32
    reliability: np.ndarray
    ability: np.ndarray
    match_key: np.ndarray  # (n,) uint64

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: np.ndarray) -> ClientArrays:
        """The arrays of a subset of rows, in the given order."""
        parts = {name: value[rows] for name, value in vars(self).items()}
        return ClientArrays(**{name: np.asfortranarray(v) if v.ndim == 2 else v for name, v in parts.items()})


@dataclass(frozen=True)
class VacancyProfile:
    """Everything the truth needs about one vacancy."""

    id: int
    occupation: int  # column, -1 none
    sector: int  # column, -1 none
    lat: float
    lon: float
    uren_min: float
    uren_max: float
    times: int  # bitmask over Werktijd
    belasting: np.ndarray  # (n_aspect,) uint8 niveau, 0 = not demanded
    required: np.ndarray  # competence columns
    required_levels: np.ndarray
    optional: np.ndarray
    optional_levels: np.ndarray
    certificates: np.ndarray  # certificate columns
    language: int  # index in TAALNIVEAUS, -1 none asked
    licences: int  # bitmask
    readiness: float
    jobcoach: bool
    jobcarving: bool
    openness: float
    coaching_quality: float
    workload: float
    match_key: int


def _licence_mask(codes: Iterable[str]) -> int:
    mask = 0
    for code in codes:
        for implied in (code, *LICENCE_IMPLIES.get(code, ())):
            mask |= LICENCE_BIT.get(implied, 0)
    return mask


def _language_index(level: str | None) -> int:
    return TAALNIVEAUS.index(level) if level in TAALNIVEAUS else -1


def build_client_arrays(
    records: Sequence[tuple[int, Mapping[str, Any], Mapping[str, Any]]], codebook: Codebook
) -> ClientArrays:
    """Arrays for clients given as ``(id, profile, factors)``.

    Args:
        records: the client id, its profile in :class:`~matching.domain.Client` column form (what
            :func:`~matching.domain.client_from_input` returns) and its latent factors.
        codebook: column layout; codes outside it are ignored by the truth.

    Returns:
        The aligned arrays, rows in the order of ``records``.
    """
    arrays = _zeros(len(records), codebook)
    pc4 = geo.load_pc4()
    for row, (client_id, profile, factors) in enumerate(records):
        arrays.ids[row] = client_id
        _fill_profile(arrays, row, profile, codebook, pc4)
        _fill_factors(arrays, row, factors, codebook)
    arrays.n_beperkingen[:] = np.minimum((arrays.beperkingen > 0).sum(axis=1), 3)
    arrays.worst_psychic[:] = arrays.beperkingen[:, PSYCHIC_ASPECTS].max(axis=1, initial=0) / 3.0
    for name, value in vars(arrays).items():
        if value.ndim == 2:
            setattr(arrays, name, np.asfortranarray(value))
    return arrays


# Each array's dtype; a matrix has one column per code of that codebook field (at least one, so an
# empty taxonomy still gives 2-d arrays), or per beperking aspect.
_VECTORS: dict[type, tuple[str, ...]] = {
    np.int64: ("ids", "excluded_times", "licences"),
    np.float64: ("lat", "lon"),
    np.float32: tuple(
        "speed_kmh overhead_min max_km uren_min uren_max n_beperkingen worst_psychic trede motivation reliability "
        "ability".split()
    ),
    np.int8: ("language",),
    np.uint64: ("match_key",),
}
_MATRICES: dict[str, tuple[type, str]] = {
    "certificates": (bool, "certificates"),
    "experience": (np.float16, "occupations"),
    "sector_experience": (bool, "sectors"),
    "wished_occupations": (bool, "occupations"),
    "wished_sectors": (bool, "sectors"),
    "competences": (np.uint8, "competences"),
    "beperkingen": (np.uint8, "aspects"),
}


def _zeros(n: int, codebook: Codebook) -> ClientArrays:
    """Zeroed arrays for ``n`` clients in the codebook's layout (row-major while they are filled)."""
    arrays = {name: np.zeros(n, dtype) for dtype, names in _VECTORS.items() for name in names}
    for name, (dtype, columns) in _MATRICES.items():
        width = len(ASPECT_NAMES) if columns == "aspects" else max(len(getattr(codebook, columns)), 1)
        arrays[name] = np.zeros((n, width), dtype)
    return ClientArrays(**arrays)


def _fill_profile(
    arrays: ClientArrays, row: int, profile: Mapping[str, Any], codebook: Codebook, pc4: geo.Pc4Table
) -> None:
    """One row's observable part: location, travel, hours, working times, licences, certificates, history, wishes."""
    occupations = codebook.occupations
    arrays.lat[row], arrays.lon[row] = pc4.coords[pc4.position[profile["postcode"][:4]]]
    mode = geo.fastest_mode(list(profile.get("vervoermiddel") or []))
    arrays.speed_kmh[row] = geo.MODE_SPEED_KMH[mode]
    arrays.overhead_min[row] = geo.MODE_OVERHEAD_MIN[mode]
    wensen = profile.get("wensen") or {}
    arrays.max_km[row] = max_travel_km(wensen, mode)
    arrays.uren_min[row] = profile["uren_min"]
    arrays.uren_max[row] = profile["uren_max"]
    arrays.excluded_times[row] = sum(WERKTIJD_BIT[t] for t in set(wensen.get("werktijdenUitgesloten", [])))
    arrays.licences[row] = _licence_mask(profile.get("rijbewijs") or [])
    for code in profile.get("certificaten") or []:
        if code in codebook.certificates:
            arrays.certificates[row, codebook.certificates[code]] = True
    for item in profile.get("werkervaring") or []:
        column = occupations.get(item["beroepCode"])
        if column is not None:
            arrays.experience[row, column] = max(arrays.experience[row, column], float(item["jaren"]))
            arrays.sector_experience[row, codebook.occupation_sector[column]] = True
    for code in wensen.get("beroepen", []):
        if code in occupations:
            arrays.wished_occupations[row, occupations[code]] = True


def _fill_factors(arrays: ClientArrays, row: int, factors: Mapping[str, Any], codebook: Codebook) -> None:
    """One row's latent part: true sectors, competences, beperkingen, taalniveau, readiness, hidden factors."""
    for sector in factors.get("sectoren", []):
        if sector in codebook.sectors:
            arrays.wished_sectors[row, codebook.sectors[sector]] = True
    for code, level in (factors.get("competenties") or {}).items():
        if code in codebook.competences:
            arrays.competences[row, codebook.competences[code]] = int(level)
    for aspect, ernst in (factors.get("beperkingen") or {}).items():
        arrays.beperkingen[row, ASPECT_COLUMN[aspect]] = int(ernst)
    arrays.language[row] = max(_language_index(factors.get("taalniveau")), 0)
    arrays.trede[row] = factors["trede_werkelijk"]
    arrays.motivation[row] = factors["motivatie"]
    arrays.reliability[row] = factors["betrouwbaarheid"]
    arrays.ability[row] = factors["vermogen"]
    arrays.match_key[row] = int(factors["match_key"])


def build_vacancy_profile(
    vacancy_id: int, profile: Mapping[str, Any], factors: Mapping[str, Any], codebook: Codebook
) -> VacancyProfile:
    """The truth's view of one vacancy, from its :class:`~matching.domain.Vacancy` column form and latent factors."""
    lat, lon = geo.coordinates(profile["postcode"])
    occupation = codebook.occupations.get(profile.get("beroep_code") or "", -1)
    sector = int(codebook.occupation_sector[occupation]) if occupation >= 0 else -1
    belasting = np.zeros(len(ASPECT_NAMES), np.uint8)
    for item in profile.get("belasting") or []:
        belasting[ASPECT_NAMES.index(item["aspect"])] = int(item["niveau"])

    def _columns(items: Iterable[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        known = [
            (codebook.competences[item["code"]], int(item.get("niveau", 2)))
            for item in items
            if item["code"] in codebook.competences
        ]
        return np.array([c for c, _ in known], np.int64), np.array([lvl for _, lvl in known], np.float32)

    required, required_levels = _columns(profile.get("competenties_vereist") or [])
    optional, optional_levels = _columns(profile.get("competenties_gewenst") or [])
    return VacancyProfile(
        id=int(vacancy_id),
        occupation=occupation,
        sector=sector,
        lat=lat,
        lon=lon,
        uren_min=float(profile["uren_min"]),
        uren_max=float(profile["uren_max"]),
        times=sum(WERKTIJD_BIT[t] for t in set(profile.get("werktijden") or [])),
        belasting=belasting,
        required=required,
        required_levels=required_levels,
        optional=optional,
        optional_levels=optional_levels,
        certificates=np.array(
            [codebook.certificates[c] for c in profile.get("certificaten") or [] if c in codebook.certificates],
            np.int64,
        ),
        language=_language_index(profile.get("taalniveau")),
        licences=_licence_mask(profile.get("rijbewijs") or []),
        readiness=READINESS[profile.get("plaatsingsvorm") or Plaatsingsvorm.REGULIER],
        jobcoach=bool(profile.get("jobcoach")),
        jobcarving=bool(profile.get("jobcarving")),
        openness=float(factors["openheid"]),
        coaching_quality=float(factors["begeleiding_kwaliteit"]),
        workload=float(factors["werkdruk"]),
        match_key=int(factors["match_key"]),
    )
