"""The HL7 FHIR R4 API under /fhir/: other systems read and book through standard resources."""
