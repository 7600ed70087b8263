"""The words the typing head is trained with, and the words kept back to test it.

``TRAIN_WORDS``: per canonical type, the words used to build training phrases.
``HELDOUT_WORDS``: synonyms never seen in training; the open-vocabulary test types regions
with them (a spec that says "scuff" where training said "scratch").
``DISTRACTORS``: unrelated words used as negatives in training, so that regions do not land
near arbitrary text. ``NONSENSE``: other unrelated words, never trained on, used to check
that a vocabulary which describes nothing in the image gives *uncertain*.
"""

from __future__ import annotations

TRAIN_WORDS: dict[str, tuple[str, ...]] = {
    "scratch": ("scratch", "scratches", "scrape", "score mark", "linear scratch"),
    "crack": ("crack", "cracks", "fracture", "hairline crack", "branching crack"),
    "pitting": ("pitting", "pits", "pit", "pinholes", "pitted spots"),
    "dent": ("dent", "dents", "indentation", "depression", "dimple"),
    "stain": ("stain", "stains", "discoloration", "smudge", "blotch"),
    "burr": ("burr", "burrs", "raised edge", "edge burr", "protruding material"),
    "chip": ("chip", "chipped edge", "chipping", "edge chip", "broken-off corner"),
    "missing_feature": ("missing feature", "missing hole", "absent feature", "feature not present"),
    "inclusion": ("inclusion", "inclusions", "embedded particle", "foreign particle", "slag inclusion"),
    "corrosion": ("corrosion", "rust", "oxidation", "corroded area", "rust patch"),
}

HELDOUT_WORDS: dict[str, tuple[str, ...]] = {
    "scratch": ("scuff", "abrasion"),
    "crack": ("fissure", "split"),
    "pitting": ("pock marks", "small craters"),
    "dent": ("ding", "impact mark"),
    "stain": ("spot", "water mark"),
    "burr": ("sharp edge", "flash"),
    "chip": ("nick", "spall"),
    "missing_feature": ("omitted hole", "hole missing"),
    "inclusion": ("embedded dirt", "foreign material"),
    "corrosion": ("rusty patch", "oxide"),
}

DISTRACTORS: tuple[str, ...] = (
    "cat", "tree", "person", "car", "sky", "barcode", "text label", "food", "paper", "flower",
    "mountain", "dog", "house", "music", "phone number",
)

NONSENSE: tuple[str, ...] = ("banana", "keyboard", "cloud", "guitar", "invoice")
