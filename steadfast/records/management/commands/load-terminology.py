"""`steadfast load-terminology`: load the shipped GP subset, or official release files."""

from django.core.management.base import BaseCommand, CommandError

from steadfast.records import loading
from steadfast.records.terminology.release_files import TerminologyFileError


class Command(BaseCommand):
    help = (
        "Load clinical terminology: the shipped GP subset by default, or a SNOMED CT RF2 "
        "description snapshot and/or a dm+d VMP XML file."
    )

    def add_arguments(self, parser):
        parser.add_argument("--snomed-descriptions", help="sct2_Description_Snapshot-en_*.txt")
        parser.add_argument("--snomed-language-refset", help="der2_cRefset_Language*.txt")
        parser.add_argument("--dmd-vmp", help="f_vmp2_3*.xml")
        parser.add_argument("--dmd-amp", help="f_amp2_3*.xml: AMPs, held as their VMP")

    def handle(
        self, *args, snomed_descriptions, snomed_language_refset, dmd_vmp, dmd_amp, **options
    ):
        try:
            if not snomed_descriptions and not dmd_vmp:
                self.stdout.write(f"Loaded {loading.load_shipped()} shipped concepts.")
            if snomed_descriptions:
                n = loading.load_snomed_release(snomed_descriptions, snomed_language_refset)
                self.stdout.write(f"Loaded {n} SNOMED CT concepts.")
            if dmd_vmp:
                n = loading.load_dmd_release(dmd_vmp, dmd_amp)
                self.stdout.write(f"Loaded {n} dm+d VMPs and mapped codes.")
        except (OSError, TerminologyFileError) as exc:
            raise CommandError(str(exc)) from exc
