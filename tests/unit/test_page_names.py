"""Pages name units and people from ids carried as data, never by finding ids inside text: an id that
is part of another id, or of a word someone typed, stays as it is."""

from __future__ import annotations

from domain.org import UnitRecord
from domain.state import PendingStep, WaitsOn
from pages.timeline import describe
from pages.web import OrgNames
from store.demo_org import DEMO_ORG

# "jtj" (市交通运输局) is part of "jtjt" (市交通建设投资集团有限公司); "gw" is part of "gwgd" and "fgw".
GW = UnitRecord(id="gw", name="电网联络组", type="党政机关", leader_user_id="fgw-li")
NAMES = OrgNames(units={u.id: u for u in [*DEMO_ORG.units, GW]}, users={u.id: u for u in DEMO_ORG.users})


def test_a_pending_step_names_its_own_unit_and_leaves_typed_text_alone() -> None:
    milestone = PendingStep(
        step="milestone:jtj 与 gw、czj 对接", waits_on=WaitsOn.LEAD_UNIT, unit="jtjt", due=None
    )
    assert NAMES.step(milestone) == ("时间节点「jtj 与 gw、czj 对接」", "牵头单位 市交通建设投资集团有限公司")
    # The API's words are unchanged: ids as they are, Chinese / English.
    assert (milestone.label, milestone.actor) == (
        "时间节点「jtj 与 gw、czj 对接」/ milestone",
        "牵头单位 jtjt",
    )


def test_each_step_names_the_id_it_carries_even_inside_a_longer_one() -> None:
    steps = [
        PendingStep(step="sign_for:gwgd", waits_on=WaitsOn.CO_UNIT, unit="gwgd", due=None),
        PendingStep(step="sign_for:gw", waits_on=WaitsOn.CO_UNIT, unit="gw", due=None),
        PendingStep(step="reassign", waits_on=WaitsOn.SUPERVISOR, unit="jtj", due=None),
        PendingStep(step="sign_off", waits_on=WaitsOn.LEADER, leader="leader-wang", due=None),
    ]
    assert [NAMES.step(step) for step in steps] == [
        ("签收", "协办单位 国网甘肃省电力公司市供电公司"),
        ("签收", "协办单位 电网联络组"),
        ("改派（市交通运输局 已退回）", "督查室"),
        ("责任领导审阅签批", "责任领导 王建国"),
    ]


def test_a_name_or_text_that_holds_an_id_is_never_rewritten() -> None:
    fgw = NAMES.units["fgw"].model_copy(update={"name": "fgw 与 gw 联合办公室"})
    names = OrgNames(units={**NAMES.units, "fgw": fgw}, users=NAMES.users)
    step = PendingStep(step="submit_plan", waits_on=WaitsOn.LEAD_UNIT, unit="fgw", due=None)
    assert names.step(step) == ("报送工作方案", "牵头单位 fgw 与 gw 联合办公室")
    assert names.unit_or_user("gw") == "电网联络组"
    assert names.unit_or_user("fgw-li") == "李强"
    assert names.unit_or_user("gw-li") == "gw-li"  # neither a unit nor a person: the id as it is


def test_the_timeline_names_a_ladders_unit_but_not_a_milestones_words() -> None:
    def step_line(step: str) -> str:
        payload = {"step": step, "level": "overdue", "due": "2026-12-07T10:00:00+00:00"}
        return dict(describe("EscalationRaised", {**payload, "recipients": ["gw", "fgw-li"]}, NAMES))["环节"]

    assert step_line("sign_for:jtjt") == "签收（市交通建设投资集团有限公司）"
    assert step_line("milestone:jtj 与 gw 对接") == "时间节点（jtj 与 gw 对接）"
    payload = {"step": "sign_for:gw", "level": "overdue", "recipients": ["gw", "fgw-li"]}
    assert dict(describe("EscalationRaised", payload, NAMES))["通知人员"] == "电网联络组、李强"
