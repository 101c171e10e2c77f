"""Readers for clinical terminology: the GP subset shipped with Steadfast, and the official
release formats (SNOMED CT RF2 descriptions, dm+d XML) that a licensed practice loads in full.

Release files are streamed line by line / element by element; memory grows with the number of
concepts kept, never with the size of the file.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from os import PathLike
from pathlib import Path
from xml.etree.ElementTree import ParseError, iterparse

from steadfast.records.terminology.sctid import is_concept_id

# RF2 metadata concepts (SNOMED CT release file specification).
FULLY_SPECIFIED_NAME = "900000000000003001"
SYNONYM = "900000000000013009"
PREFERRED = "900000000000548007"

# Language reference sets that give the UK preferred term, most specific first: the NHS realm
# language refset (clinical part, then pharmacy part for dm+d), then the GB English refset.
UK_LANGUAGE_REFSETS = ("999001261000000100", "999000691000001104", "900000000000508004")

SNOMED_USES = frozenset(
    {
        "problem",
        "observable",
        "allergen",
        "reaction",
        "procedure",
        "vaccination",
        "flag",
        "finding",
        "no_allergy",
    }
)
MAPPING_KINDS = frozenset({"amp", "vpidprev", "vaccine"})

StrPath = str | PathLike[str]

_DESCRIPTION_COLUMNS = (
    "id",
    "effectiveTime",
    "active",
    "moduleId",
    "conceptId",
    "languageCode",
    "typeId",
    "term",
    "caseSignificanceId",
)
_LANGUAGE_COLUMNS = (
    "id",
    "effectiveTime",
    "active",
    "moduleId",
    "refsetId",
    "referencedComponentId",
    "acceptabilityId",
)
_CONCEPT_COLUMNS = ("id", "effectiveTime", "active", "moduleId", "definitionStatusId")


class TerminologyFileError(ValueError):
    """A terminology file is not in the expected format; the message names file and line."""


@dataclass(frozen=True, slots=True)
class SnomedConcept:
    concept_id: str
    term: str
    semantic_tag: str


@dataclass(frozen=True, slots=True)
class DmdVmp:
    vpid: str
    name: str
    previous_vpid: str | None = None


@dataclass(frozen=True, slots=True)
class DmdAmp:
    apid: str
    name: str
    vpid: str


@dataclass(frozen=True, slots=True)
class ShippedMapping:
    system: str
    code: str
    term: str
    kind: str
    concept: str


@dataclass(frozen=True, slots=True)
class ShippedConcept:
    concept_id: str
    term: str
    semantic_tag: str
    use: str


@dataclass(frozen=True, slots=True)
class ShippedVmp:
    vpid: str
    name: str
    route: str
    allergy_class: str | None


def split_fsn(fsn: str) -> tuple[str, str]:
    """Split a fully specified name into (name, semantic tag): 'Asthma (disorder)' -> both parts."""
    if fsn.endswith(")") and " (" in fsn:
        name, _, tag = fsn[:-1].rpartition(" (")
        return name, tag
    return fsn, ""


# --- SNOMED CT RF2 -----------------------------------------------------------------------------


def _rf2_rows(path: StrPath, columns: tuple[str, ...]) -> Iterator[list[str]]:
    """Rows of an RF2 file after checking its header; RF2 files are UTF-8, tab separated."""
    with open(path, encoding="utf-8", newline="") as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
        if tuple(header) != columns:
            raise TerminologyFileError(
                f"{Path(path).name}: header {header!r} is not the RF2 header {list(columns)!r}"
            )
        for line_number, line in enumerate(handle, start=2):
            fields = line.rstrip("\r\n").split("\t")
            if fields == [""]:
                continue
            if len(fields) != len(columns):
                raise TerminologyFileError(
                    f"{Path(path).name} line {line_number}: expected {len(columns)} "
                    f"tab-separated fields, found {len(fields)}"
                )
            yield fields


def _preferred_descriptions(
    refset_paths: Iterable[StrPath], refset_ids: tuple[str, ...]
) -> dict[int, int]:
    """Description id -> rank (lower is better) of active 'preferred' members of the refsets."""
    ranks = {refset_id: rank for rank, refset_id in enumerate(refset_ids)}
    preferred: dict[int, int] = {}
    for path in refset_paths:
        for _, _, active, _, refset_id, description_id, acceptability in _rf2_rows(
            path, _LANGUAGE_COLUMNS
        ):
            rank = ranks.get(refset_id)
            if active == "1" and acceptability == PREFERRED and rank is not None:
                key = int(description_id)
                preferred[key] = min(rank, preferred.get(key, rank))
    return preferred


def _active_concepts(concept_path: StrPath) -> set[int]:
    return {
        int(fields[0]) for fields in _rf2_rows(concept_path, _CONCEPT_COLUMNS) if fields[2] == "1"
    }


def iter_snomed_concepts(
    description_path: StrPath,
    language_refset_path: StrPath | Iterable[StrPath] | None = None,
    *,
    concept_path: StrPath | None = None,
    language_refset_ids: tuple[str, ...] = UK_LANGUAGE_REFSETS,
) -> Iterator[SnomedConcept]:
    """Concepts from an RF2 Description snapshot (sct2_Description_Snapshot-en_...txt).

    Inactive descriptions are ignored. The semantic tag comes from the active fully specified
    name. The term is the synonym the language refset(s) mark preferred (UK refsets by default,
    ranked in `language_refset_ids` order); without a refset, or when no synonym is preferred,
    it is the fully specified name without its tag. With `concept_path` (an RF2 Concept
    snapshot) only active concepts are returned. Concepts come out in concept id order.
    """
    if language_refset_path is None:
        refset_paths: list[StrPath] = []
    elif isinstance(language_refset_path, str | PathLike):
        refset_paths = [language_refset_path]
    else:
        refset_paths = list(language_refset_path)
    preferred = _preferred_descriptions(refset_paths, language_refset_ids)
    active_concepts = _active_concepts(concept_path) if concept_path is not None else None

    fsns: dict[int, str] = {}
    terms: dict[int, tuple[int, str]] = {}  # concept id -> (rank, preferred term)
    for description_id, _, active, _, concept_id, _, type_id, term, _ in _rf2_rows(
        description_path, _DESCRIPTION_COLUMNS
    ):
        if active != "1":
            continue
        concept = int(concept_id)
        if active_concepts is not None and concept not in active_concepts:
            continue
        if type_id == FULLY_SPECIFIED_NAME:
            fsns[concept] = term
        elif type_id == SYNONYM:
            rank = preferred.get(int(description_id))
            if rank is not None and (concept not in terms or rank < terms[concept][0]):
                terms[concept] = (rank, term)

    for concept in sorted(fsns):
        name, tag = split_fsn(fsns[concept])
        term = terms[concept][1] if concept in terms else name
        yield SnomedConcept(concept_id=str(concept), term=term, semantic_tag=tag)


# --- dm+d XML ----------------------------------------------------------------------------------


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def iter_dmd_vmps(xml_path: StrPath) -> Iterator[DmdVmp]:
    """Valid VMPs from a dm+d VMP file (f_vmp2_3*.xml: VIRTUAL_MED_PRODUCTS/VMPS/VMP).

    VMPs flagged INVALID are skipped. Elements are released as soon as they are read, so a
    full release file is never held in memory.
    """
    path = Path(xml_path)
    try:
        for _, element in iterparse(path, events=("end",)):
            if _local_name(element.tag) != "VMP":
                continue
            fields = {_local_name(child.tag): (child.text or "").strip() for child in element}
            element.clear()
            if fields.get("INVALID") == "1":
                continue
            vpid, name = fields.get("VPID", ""), fields.get("NM", "")
            if not vpid or not name:
                raise TerminologyFileError(f"{path.name}: a VMP without VPID or NM")
            yield DmdVmp(vpid=vpid, name=name, previous_vpid=fields.get("VPIDPREV") or None)
    except ParseError as error:
        raise TerminologyFileError(f"{path.name}: not well-formed XML ({error})") from error


def iter_dmd_amps(xml_path: StrPath) -> Iterator[DmdAmp]:
    """Valid AMPs and the VMP each is of, from a dm+d AMP file (f_amp2_3*.xml: AMPS/AMP)."""
    path = Path(xml_path)
    try:
        for _, element in iterparse(path, events=("end",)):
            if _local_name(element.tag) != "AMP":
                continue
            fields = {_local_name(child.tag): (child.text or "").strip() for child in element}
            element.clear()
            if fields.get("INVALID") == "1":
                continue
            apid, vpid = fields.get("APID", ""), fields.get("VPID", "")
            name = fields.get("DESC") or fields.get("NM") or ""
            if not apid or not vpid or not name:
                raise TerminologyFileError(f"{path.name}: an AMP without APID, VPID or name")
            yield DmdAmp(apid=apid, name=name, vpid=vpid)
    except ParseError as error:
        raise TerminologyFileError(f"{path.name}: not well-formed XML ({error})") from error


# --- The shipped GP subset ---------------------------------------------------------------------

_SHIPPED_SNOMED_COLUMNS = ["concept_id", "term", "semantic_tag", "use"]
_SHIPPED_DMD_COLUMNS = ["vpid", "name", "route", "allergy_class"]
_SHIPPED_MAPPING_COLUMNS = ["system", "code", "term", "kind", "concept"]


def _shipped_rows(filename: str, columns: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    text = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    if reader.fieldnames != columns:
        raise TerminologyFileError(f"{filename}: header {reader.fieldnames!r} is not {columns!r}")
    for row in reader:
        if None in row or any(value is None for value in row.values()):
            raise TerminologyFileError(f"{filename} line {reader.line_num}: wrong field count")
        yield reader.line_num, row


def shipped_snomed() -> list[ShippedConcept]:
    """The SNOMED CT concepts shipped with Steadfast (snomed_gp.tsv)."""
    concepts = []
    for line, row in _shipped_rows("snomed_gp.tsv", _SHIPPED_SNOMED_COLUMNS):
        if not is_concept_id(row["concept_id"]) or row["use"] not in SNOMED_USES:
            raise TerminologyFileError(f"snomed_gp.tsv line {line}: bad concept id or use")
        concepts.append(ShippedConcept(**row))
    return concepts


def shipped_dmd() -> list[ShippedVmp]:
    """The dm+d VMPs shipped with Steadfast (dmd_vmp.tsv); allergy_class is a SNOMED CT id."""
    vmps = []
    for line, row in _shipped_rows("dmd_vmp.tsv", _SHIPPED_DMD_COLUMNS):
        if not is_concept_id(row["vpid"]):
            raise TerminologyFileError(f"dmd_vmp.tsv line {line}: bad VPID")
        vmps.append(
            ShippedVmp(
                vpid=row["vpid"],
                name=row["name"],
                route=row["route"],
                allergy_class=row["allergy_class"] or None,
            )
        )
    return vmps


def shipped_mappings() -> list[ShippedMapping]:
    """dm+d codes held as a shipped concept (dmd_mappings.tsv): AMPs and previous ids of VMPs,
    vaccine products of vaccinations."""
    mappings = []
    for line, row in _shipped_rows("dmd_mappings.tsv", _SHIPPED_MAPPING_COLUMNS):
        ids_valid = is_concept_id(row["code"]) and is_concept_id(row["concept"])
        if not ids_valid or row["kind"] not in MAPPING_KINDS or row["system"] != "dmd":
            raise TerminologyFileError(f"dmd_mappings.tsv line {line}: bad code, kind or system")
        mappings.append(ShippedMapping(**row))
    return mappings
