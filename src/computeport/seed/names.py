"""Deterministic invented organisation names for the scenario (all marked as assumptions).

The public sources name neither the applicants nor most AI companies at Cyberport, so the
seed invents them from word lists with a fixed random seed: the same names every run, none
meant to be a real organisation.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from computeport.models.identity import OrganisationCategory

PLACES = [
    "Harbourview",
    "Lion Rock",
    "Kowloon Bay",
    "Lantau",
    "Sai Kung",
    "Tsing Yi",
    "Victoria",
    "Pok Fu Lam",
    "Tai Po",
    "Sha Tin",
    "Clearwater",
    "Silvermine",
    "Stonecutters",
    "Peak Road",
    "Tolo",
    "Mong Kok",
    "Cheung Chau",
    "Lamma",
    "Ma On Shan",
    "Deep Water",
]
FIELDS = [
    "Machine Learning",
    "Computational Biology",
    "Materials Informatics",
    "Smart Cities",
    "Medical Imaging",
    "Language Technology",
    "Robotics",
    "Climate Modelling",
    "FinTech",
    "Synthetic Biology",
    "Quantum Chemistry",
    "Autonomous Systems",
]
SYLLABLES = [
    "jade",
    "sampan",
    "neon",
    "kite",
    "lotus",
    "harbour",
    "typhoon",
    "junk",
    "tram",
    "ferry",
    "bauhinia",
    "orchid",
    "dragon",
    "pearl",
    "summit",
    "cedar",
    "mango",
    "lychee",
    "ember",
    "quartz",
    "nova",
    "pixel",
    "tensor",
    "vector",
    "cobalt",
    "delta",
    "orbit",
    "lumen",
]
ENDINGS = ["AI", "Labs", "Intelligence", "Robotics", "Analytics", "Data", "Bio", "Health AI"]
SECTORS = [
    "fintech",
    "healthcare",
    "biotech",
    "materials",
    "logistics",
    "retail",
    "media",
    "legal",
    "education",
    "smart_city",
    "manufacturing",
    "language",
]
GOVERNMENT_UNITS = [
    "Digital Services Unit",
    "Records Analytics Office",
    "Transport Data Office",
    "Public Health Informatics Unit",
    "Environmental Monitoring Office",
    "Lands Data Unit",
    "Customs Analytics Office",
    "Weather Services Data Unit",
    "Social Welfare Data Office",
    "Water Supplies Analytics Unit",
    "Buildings Informatics Office",
    "Library Data Unit",
    "Marine Data Office",
    "Education Data Unit",
    "Civil Engineering Data Office",
    "Housing Analytics Unit",
    "Labour Statistics Office",
    "Tourism Data Unit",
    "Fire Services Analytics Office",
    "Postal Data Unit",
]

COUNTS = {
    OrganisationCategory.UNIVERSITY: 12,
    OrganisationCategory.RD_CENTRE: 18,
    OrganisationCategory.GOVERNMENT: 20,
    OrganisationCategory.ENTERPRISE: 250,
}
"""≈300 applicants (assumption): the public pages count 330+ AI and big-data start-ups at
Cyberport; universities, R&D centres and government departments are fewer."""


def _university(rng: random.Random, used: set[str]) -> str:
    kinds = ["University", "University of Technology", "Institute of Science", "Polytechnic"]
    return f"{rng.choice(PLACES)} {rng.choice(kinds)}"


def _rd_centre(rng: random.Random, used: set[str]) -> str:
    return f"{rng.choice(PLACES)} Centre for {rng.choice(FIELDS)}"


def _government(rng: random.Random, used: set[str]) -> str:
    return f"{rng.choice(GOVERNMENT_UNITS)} (demo department)"


def _enterprise(rng: random.Random, used: set[str]) -> str:
    a, b = rng.sample(SYLLABLES, 2)
    return f"{a.title()}{b} {rng.choice(ENDINGS)} Limited"


_MAKERS = {
    OrganisationCategory.UNIVERSITY: _university,
    OrganisationCategory.RD_CENTRE: _rd_centre,
    OrganisationCategory.GOVERNMENT: _government,
    OrganisationCategory.ENTERPRISE: _enterprise,
}


def organisation_names(seed: int = 20241007) -> Iterator[tuple[str, OrganisationCategory, str]]:
    """(name, category, sector) for every seeded organisation, always in the same order."""
    rng = random.Random(seed)  # noqa: S311 - invented names, not security
    used: set[str] = set()
    for category, count in COUNTS.items():
        made = 0
        while made < count:
            name = _MAKERS[category](rng, used)
            if name in used:
                continue
            used.add(name)
            made += 1
            sector = (
                "public_sector"
                if category is OrganisationCategory.GOVERNMENT
                else rng.choice(SECTORS)
            )
            yield name, category, sector


__all__ = ["COUNTS", "organisation_names"]
