"""Words people make from a brand's name: relational adjectives (тиньковская карта, озоновский пункт
выдачи, пятёрочковский пакет, мтсовский тариф, втбшная карта) and the nouns for its people
(сберовцы). Only forms the dictionary does not know: «магнитный» is about magnets, «мирный» about
peace, «Магнитский» a surname, so none of them is ever taken for the brand.
"""

from __future__ import annotations

from monitor.morphology import word_is_known

# Endings of an adjective in -ский (all genders, numbers and cases) and in -ный.
_SKIY_ENDINGS = ("ий", "ая", "ое", "ие", "ого", "ой", "ую", "ому", "им", "ом", "их", "ими", "ою")
_NYY_ENDINGS = ("ый", "ая", "ое", "ые", "ого", "ой", "ую", "ому", "ым", "ом", "ых", "ыми", "ою")
# сберовец, сберовца, ... сберовцы, сберовцев
_OVETS_FORMS = ("овец", "овца", "овцу", "овцом", "овце", "овцы", "овцев", "овцам", "овцами", "овцах")
# A final vowel, ь or й gives way to the suffix: пятёрочк-овский, оке-евский.
_DROPPED_ENDINGS = tuple("аяоеыиьй")
# A name ending like a surname takes -ский straight after it (Тиньков -> тиньковский); one in -офф
# is the same surname spelt the old way (Тинькофф -> тиньковский).
_SURNAME_ENDINGS = ("ов", "ев", "ин")
_OLD_SURNAME_ENDINGS = ("офф", "оф")
SHORTEST_STEM = 2


def derived_forms(folded: str, abbreviation: bool) -> frozenset[str]:
    """Every case form of the adjectives and nouns derived from one folded Cyrillic word of a name;
    abbreviations (МТС, ВТБ) also take -шный / -ный (мтсный, втбшная)."""
    stems = {folded}
    if folded.endswith(_DROPPED_ENDINGS):
        stems.add(folded[:-1])
    for ending in _OLD_SURNAME_ENDINGS:
        if folded.endswith(ending):
            stems.add(folded[: -len(ending)])
    stems = {stem for stem in stems if len(stem) >= SHORTEST_STEM}
    forms: set[str] = set()
    for stem in stems:
        for suffix in ("овск", "евск"):
            forms.update(stem + suffix + ending for ending in _SKIY_ENDINGS)
        forms.update(stem + ending for ending in _OVETS_FORMS)
    if folded.endswith(_SURNAME_ENDINGS):
        forms.update(folded + "ск" + ending for ending in _SKIY_ENDINGS)
    if abbreviation:
        for suffix in ("шн", "н"):
            forms.update(folded + suffix + ending for ending in _NYY_ENDINGS)
    return frozenset(form for form in forms if not word_is_known(form))
