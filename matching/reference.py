"""Paths of the reference data shipped in ``data/`` (taxonomy, occupations, PC4 geography)."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PC4_FILE = DATA_DIR / "pc4_nl.csv"
COMPETENCES_FILE = DATA_DIR / "competenties.csv"
OCCUPATIONS_FILE = DATA_DIR / "beroepen.csv"
CERTIFICATES_FILE = DATA_DIR / "certificaten.csv"
