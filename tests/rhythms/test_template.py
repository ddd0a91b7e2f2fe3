"""The office edits the document templates: `duban documents template [--assessment] FILE` writes
the default, an edited copy named by DOCUMENT_TEMPLATE (ASSESSMENT_TEMPLATE) shapes the generated
通报 / 调度 documents (the 考核 result)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from pydantic import ValidationError

from activities.assessment_documents import AssessmentDocument, render_assessment_docx
from activities.documents import render_docx
from cli import main
from domain.assessment import Rule
from settings import Settings

FIGURES: dict[str, Any] = {
    "period": "2026-Q3",
    "from": "2026-06-30T16:00:00+00:00",
    "to": "2026-09-30T15:59:59.999999+00:00",
    "as_of": "2026-09-30T15:59:59.999999+00:00",
    "calendar": "chinesecalendar",
    "units": [
        {
            "key": "fgw",
            "label": "市发展和改革委员会",
            "rank": 1,
            "figures": {
                "assigned": 2,
                "signed_late": 0,
                "closed": 0,
                "closed_on_time": 0,
                "on_time_rate": None,
                "overdue_now.completion": 0,
                "escalation.overdue": 1,
                "returned": 0,
                "urged": 0,
            },
        }
    ],
    "red_and_overdue": [
        {
            "number": "DB-2026-000201",
            "title": "推进老旧小区改造",
            "lead_unit_name": "市发展和改革委员会",
            "light": "red",
            "detail": "提交工作方案",
            "days": 0,
        }
    ],
    "stuck": [],
}


def test_an_edited_template_shapes_the_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "调度模板.docx"
    assert main(["documents", "template", str(path)]) == 0
    assert "DOCUMENT_TEMPLATE" in capsys.readouterr().out
    assert main(["documents", "template", str(path)]) == 2  # never overwrites the office's edits
    assert "已存在" in capsys.readouterr().err

    edited = Document(str(path))
    edited.paragraphs[0].insert_paragraph_before("市委督查室 印发（机密）")
    edited.add_paragraph("附：{{red_count}} 项红灯事项请分管领导阅示。")
    edited.save(str(path))
    assert Settings(_env_file=None, document_template=path).document_template == path

    document = Document(io.BytesIO(render_docx("季度调度汇总（2026-Q3）", FIGURES, "abc123", path)))
    text = [p.text for p in document.paragraphs]
    assert text[0] == "市委督查室 印发（机密）"
    assert text[1] == "季度调度汇总（2026-Q3）"
    assert "附：1 项红灯事项请分管领导阅示。" in text
    assert not any("{{" in line for line in text)
    units, red, stuck = document.tables
    assert [c.text for c in units.rows[1].cells][:3] == ["市发展和改革委员会", "1", "2"]
    assert red.rows[1].cells[0].text == "DB-2026-000201"
    assert len(stuck.rows) == 1  # the header only: nothing stuck


def test_a_template_path_that_is_not_a_file_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DOCUMENT_TEMPLATE"):
        Settings(_env_file=None, document_template=tmp_path / "missing.docx")


def test_the_office_edits_the_assessment_template_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "考核模板.docx"
    assert main(["documents", "template", "--assessment", str(path)]) == 0
    assert "ASSESSMENT_TEMPLATE" in capsys.readouterr().out
    edited = Document(str(path))
    edited.add_paragraph("共 {{unit_count}} 个单位参加考核，依据考核办法第 {{policy_version}} 版。")
    edited.save(str(path))
    assert Settings(_env_file=None, assessment_template=path).assessment_template == path

    figures: list[dict[str, Any]] = [
        {
            "unit": "fgw",
            "score": 97.5,
            "band": "excellent",
            "rank": 1,
            "base": 100.0,
            "deductions": 2.5,
            "bonus": 0.0,
            "bonus_capped": False,
            "by_rule": {
                rule.value: {"quantity": 5 if rule is Rule.OVERDUE_DAY else 0, "points": 0.0} for rule in Rule
            },
        }
    ]
    figures[0]["by_rule"][Rule.OVERDUE_DAY.value]["points"] = -2.5
    rendered = AssessmentDocument(
        title="2026 年度考核结果（草案）",
        status="草案",
        period_from=datetime(2025, 12, 31, 16, tzinfo=UTC),
        period_to=datetime(2026, 12, 31, 15, 59, 59, 999999, tzinfo=UTC),
        policy_version=3,
        figures=figures,
        names={"fgw": "市发展和改革委员会"},
        figures_hash="abc123",
    )
    document = Document(io.BytesIO(render_assessment_docx(rendered, path)))
    text = [p.text for p in document.paragraphs]
    assert text[0] == "2026 年度考核结果（草案）"
    assert "共 1 个单位参加考核，依据考核办法第 3 版。" in text
    assert "考核期间：2026-01-01 至 2026-12-31　考核办法：第 3 版　状态：草案" in text
    assert not any("{{" in line for line in text)
    scores, rules = document.tables
    assert [c.text for c in scores.rows[1].cells] == [
        "1",
        "市发展和改革委员会",
        "97.50",
        "优秀",
        "2.50",
        "0.00",
    ]
    assert rules.rows[1].cells[1].text == "-2.50"
    with pytest.raises(ValidationError, match="ASSESSMENT_TEMPLATE"):
        Settings(_env_file=None, assessment_template=tmp_path / "missing.docx")
