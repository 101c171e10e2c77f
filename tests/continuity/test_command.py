"""`steadfast continuity pack`: passphrase from the environment or a file, practice choice, PDF."""

import pytest
from django.core.management import CommandError, call_command
from weasyprint import HTML

from steadfast.audit.models import AuditEvent
from steadfast.continuity.pdf import pack_pdf_html
from steadfast.continuity.services import build_pack
from tests.continuity.conftest import PASSPHRASE, opened
from tests.factories import PracticeFactory


def pack(*args: str) -> None:
    call_command("continuity", "pack", *args)


def test_command_writes_the_pack_with_the_passphrase_from_the_environment(
    clinic, tmp_path, monkeypatch
):
    monkeypatch.setenv("STEADFAST_PACK_PASSPHRASE", PASSPHRASE)
    out = tmp_path / "pack.html"
    pack("--out", str(out), "--days", "2")
    assert opened(out.read_bytes())["register"][1]["name"] == "FAIRWEATHER, Imogen"
    assert [p.name for p in tmp_path.iterdir()] == ["pack.html"]  # no temporary file left


def test_command_reads_the_passphrase_from_a_file(clinic, tmp_path, monkeypatch):
    monkeypatch.delenv("STEADFAST_PACK_PASSPHRASE", raising=False)
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n")
    out = tmp_path / "pack.html"
    pack("--out", str(out), "--passphrase-file", str(secret))
    assert opened(out.read_bytes())["practice"]["ods"] == clinic.practice.ods_code


def test_command_refuses_a_passphrase_that_is_not_the_practices(clinic, tmp_path, monkeypatch):
    monkeypatch.setenv("STEADFAST_PACK_PASSPHRASE", "not the one at all")
    out = tmp_path / "pack.html"
    with pytest.raises(CommandError, match=r"not practice .* downtime passphrase"):
        pack("--out", str(out))
    assert not out.exists()


def test_command_without_a_passphrase_says_where_to_give_one(clinic, tmp_path, monkeypatch):
    monkeypatch.delenv("STEADFAST_PACK_PASSPHRASE", raising=False)
    with pytest.raises(CommandError, match="STEADFAST_PACK_PASSPHRASE"):
        pack("--out", str(tmp_path / "pack.html"))


def test_with_several_practices_the_command_asks_which(clinic, tmp_path, monkeypatch):
    monkeypatch.setenv("STEADFAST_PACK_PASSPHRASE", PASSPHRASE)
    PracticeFactory()
    with pytest.raises(CommandError, match="--practice"):
        pack("--out", str(tmp_path / "pack.html"))
    pack("--out", str(tmp_path / "pack.html"), "--practice", clinic.practice.ods_code.lower())
    assert (tmp_path / "pack.html").exists()


def test_command_writes_the_paper_copy_when_asked(clinic, tmp_path, monkeypatch):
    monkeypatch.setenv("STEADFAST_PACK_PASSPHRASE", PASSPHRASE)
    pdf = tmp_path / "pack.pdf"
    pack("--out", str(tmp_path / "pack.html"), "--pdf", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert AuditEvent.objects.filter(action="write_downtime_pack_pdf").count() == 1


def _page_texts(contents) -> list[str]:
    document = HTML(string=pack_pdf_html(contents)).render()

    def text(box) -> str:
        own = getattr(box, "text", "")
        return own + " ".join(text(child) for child in getattr(box, "children", []))

    return [text(page._page_box) for page in document.pages]


def test_paper_copy_has_a_page_per_day_list_and_per_booked_patient(clinic):
    contents = build_pack(clinic.practice, PASSPHRASE, days=2).contents
    today, tomorrow, summary = _page_texts(contents)
    # A page for each day (today has no bookings), then one summary: none for the restricted.
    assert "No appointments booked" in today
    assert "Dr Ada Okonkwo" in tomorrow and "RESTRICTED RECORD" in tomorrow
    assert "Private" not in tomorrow
    assert "FAIRWEATHER, Imogen" in summary and "Penicillin: anaphylaxis (severe)" in summary
    assert "anything after this is not here" in summary
