"""The observations the record knows: their SNOMED CT codes, units and reference ranges.

Every code here is in the shipped subset (snomed_gp.tsv); a test checks it.
"""

from dataclasses import dataclass
from decimal import Decimal

from steadfast.records.models import ObservationKind as K


@dataclass(frozen=True)
class ObservationType:
    kind: str
    label: str
    code: str  # SNOMED CT observable entity (systolic for blood pressure)
    unit: str
    low: Decimal | None  # reference range; None where one side is open
    high: Decimal | None
    lowest: Decimal  # what a person could plausibly measure: outside it is a typing error
    highest: Decimal
    code2: str = ""  # diastolic, for blood pressure
    low2: Decimal | None = None
    high2: Decimal | None = None


D = Decimal
TYPES: dict[str, ObservationType] = {
    t.kind: t
    for t in [
        ObservationType(
            K.BLOOD_PRESSURE, "Blood pressure", "271649006", "mmHg", D(90), D(139), D(50), D(260),
            code2="271650006", low2=D(60), high2=D(89),
        ),
        ObservationType(K.PULSE, "Pulse", "78564009", "/min", D(60), D(100), D(20), D(250)),
        ObservationType(K.WEIGHT, "Weight", "27113001", "kg", None, None, D("0.3"), D(400)),
        ObservationType(K.HEIGHT, "Height", "50373000", "cm", None, None, D(25), D(250)),
        ObservationType(K.BMI, "BMI", "60621009", "kg/m²", D("18.5"), D("24.9"), D(8), D(120)),
        ObservationType(
            K.TEMPERATURE, "Temperature", "386725007", "°C", D("36.0"), D("37.9"), D(25), D(45)
        ),
        ObservationType(
            K.HBA1C, "HbA1c", "999791000000106", "mmol/mol", D(20), D(41), D(10), D(250)
        ),
        ObservationType(
            K.EGFR, "eGFR", "1011481000000105", "mL/min/1.73m²", D(60), None, D(1), D(200)
        ),
        ObservationType(
            K.CHOLESTEROL, "Total cholesterol", "994351000000103", "mmol/L", None, D(5), D(1),
            D(25),
        ),
        ObservationType(
            K.OXYGEN_SATURATION, "Oxygen saturation", "431314004", "%", D(95), None, D(50), D(100)
        ),
        ObservationType(
            K.RESPIRATORY_RATE, "Respiratory rate", "86290005", "/min", D(12), D(20), D(4), D(80)
        ),
        ObservationType(
            K.HEAD_CIRCUMFERENCE, "Head circumference", "363812007", "cm", None, None, D(20),
            D(70),
        ),
    ]
}  # fmt: skip
# Smoking status is a coded finding, not a number.
SMOKING_STATUS = {"smoker": "77176002", "ex_smoker": "8517006", "never": "266919005"}
CHARTED = [k for k in TYPES]


def out_of_range(t: ObservationType, value, value2=None) -> bool:
    def outside(v, low, high):
        return v is not None and ((low is not None and v < low) or (high is not None and v > high))

    return outside(value, t.low, t.high) or outside(value2, t.low2, t.high2)


def body_mass_index(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    metres = height_cm / 100
    return (weight_kg / (metres * metres)).quantize(Decimal("0.1"))


def impossible_reading(kind: str, value) -> str:
    """Why `value` cannot be a reading of `kind` ("" when it can): what a person could measure,
    the same limit the service enforces."""
    t = TYPES[kind]
    if value is not None and not t.lowest <= value <= t.highest:
        return f"{t.label} of {value} {t.unit} is not possible; check the value."
    return ""
