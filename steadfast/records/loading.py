"""Loading terminology into Concept: the shipped GP subset, or official release files.

Loading is an upsert on (system, code), so it can be repeated and a later release updates terms.
"""

from collections.abc import Iterable

from django.db import transaction

from steadfast.records.models import (
    CodeMapping,
    CodeSystem,
    Concept,
    ConceptUse,
    MappingKind,
    search_key,
)
from steadfast.records.terminology.release_files import (
    iter_dmd_amps,
    iter_dmd_vmps,
    iter_snomed_concepts,
    shipped_dmd,
    shipped_mappings,
    shipped_snomed,
)

# Which picker a concept from a full release appears in, by its semantic tag.
USE_BY_SEMANTIC_TAG = {
    "disorder": ConceptUse.PROBLEM,
    "finding": ConceptUse.FINDING,
    "observable entity": ConceptUse.OBSERVABLE,
    "substance": ConceptUse.ALLERGEN,
    "procedure": ConceptUse.PROCEDURE,
    "regime/therapy": ConceptUse.PROCEDURE,
}
BATCH = 2000


def _upsert(concepts: Iterable[Concept], update_fields: list[str]) -> int:
    count, batch = 0, []
    with transaction.atomic():
        for concept in concepts:
            concept.search_key = search_key(concept.term)
            batch.append(concept)
            if len(batch) == BATCH:
                count += _flush(batch, update_fields)
        count += _flush(batch, update_fields)
    return count


def _flush(batch: list[Concept], update_fields: list[str]) -> int:
    if batch:
        Concept.objects.bulk_create(
            batch,
            update_conflicts=True,
            unique_fields=["system", "code"],
            update_fields=update_fields,
        )
    n = len(batch)
    batch.clear()
    return n


def load_shipped() -> int:
    """The curated GP subset shipped with Steadfast (about 300 SNOMED CT, 200 dm+d)."""
    snomed = (
        Concept(
            system=CodeSystem.SNOMED,
            code=c.concept_id,
            term=c.term,
            semantic_tag=c.semantic_tag,
            use=c.use,
        )
        for c in shipped_snomed()
    )
    dmd = (
        Concept(
            system=CodeSystem.DMD,
            code=v.vpid,
            term=v.name,
            semantic_tag="VMP",
            use=ConceptUse.MEDICINE,
            route=v.route,
            allergy_class=v.allergy_class or "",
        )
        for v in shipped_dmd()
    )
    fields = ["term", "search_key", "semantic_tag", "use", "route", "allergy_class"]
    count = _upsert(snomed, fields) + _upsert(dmd, fields)
    return count + _map_codes(
        (m.system, m.code, m.term, m.kind, m.concept) for m in shipped_mappings()
    )


def _map_codes(rows: Iterable[tuple[str, str, str, str, str]]) -> int:
    """Upsert CodeMappings (system, code, term, kind, target code) whose target is held."""
    rows = list(rows)
    targets = dict(Concept.objects.filter(code__in={r[4] for r in rows}).values_list("code", "pk"))
    mappings = [
        CodeMapping(system=system, code=code, term=term[:255], kind=kind, concept_id=targets[to])
        for system, code, term, kind, to in rows
        if to in targets
    ]
    with transaction.atomic():
        for start in range(0, len(mappings), BATCH):
            CodeMapping.objects.bulk_create(
                mappings[start : start + BATCH],
                update_conflicts=True,
                unique_fields=["system", "code"],
                update_fields=["term", "kind", "concept"],
            )
    return len(mappings)


def load_snomed_release(description_path, language_refset_path=None) -> int:
    """Concepts of the picker-relevant hierarchies from an RF2 description snapshot."""
    concepts = (
        Concept(
            system=CodeSystem.SNOMED,
            code=c.concept_id,
            term=c.term[:255],
            semantic_tag=c.semantic_tag,
            use=USE_BY_SEMANTIC_TAG[c.semantic_tag],
        )
        for c in iter_snomed_concepts(description_path, language_refset_path)
        if c.semantic_tag in USE_BY_SEMANTIC_TAG
    )
    # A reloaded release refreshes terms but keeps a curated concept's use.
    return _upsert(concepts, ["term", "search_key", "semantic_tag"])


def load_dmd_release(xml_path, amp_xml_path=None) -> int:
    """VMPs from a dm+d VMP XML file; route and allergy class of shipped ones are kept. A VMP's
    previous id (VPIDPREV) and, given the AMP file, every AMP are mapped to the VMP."""
    vmps = list(iter_dmd_vmps(xml_path))
    concepts = (
        Concept(
            system=CodeSystem.DMD,
            code=v.vpid,
            term=v.name[:255],
            semantic_tag="VMP",
            use=ConceptUse.MEDICINE,
        )
        for v in vmps
    )
    count = _upsert(concepts, ["term", "search_key"])
    previous = (
        (CodeSystem.DMD, v.previous_vpid, v.name, MappingKind.PREVIOUS_VPID, v.vpid)
        for v in vmps
        if v.previous_vpid
    )
    count += _map_codes(previous)
    if amp_xml_path is not None:
        amps = (
            (CodeSystem.DMD, a.apid, a.name, MappingKind.AMP_OF_VMP, a.vpid)
            for a in iter_dmd_amps(amp_xml_path)
        )
        count += _map_codes(amps)
    return count


def load_shipped_if_empty(**kwargs) -> None:
    """post_migrate: a new (or flushed) database gets the shipped subset, so pickers work."""
    if not Concept.objects.exists():
        load_shipped()
