"""The seeded synthetic NHS used by the README's first command. SYNTHETIC DEMONSTRATION DATA only."""

from partnering.demo.generate import (
    INDICATORS,
    KINDS,
    LABEL,
    PROFILES,
    REGIONS,
    DemoSystem,
    generate,
    load_icb_centres,
    load_partner_catalogue_example,
    partner_catalogue_example,
    write_partner_catalogue_example,
)

__all__ = [
    "INDICATORS",
    "KINDS",
    "LABEL",
    "PROFILES",
    "REGIONS",
    "DemoSystem",
    "generate",
    "load_icb_centres",
    "load_partner_catalogue_example",
    "partner_catalogue_example",
    "write_partner_catalogue_example",
]
