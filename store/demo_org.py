"""The embedded default's demo org chart: a city's 督查室, responsible units, leaders and auditors.

Addresses are on the reserved `.example` domain: the embedded default sends no email (no
SMTP_HOST). Robots live in UNIT_SECRETS_FILE, never in the org chart, and are off by default.
"""

from __future__ import annotations

from domain.people import Role
from store.org import OrgChart, UnitRecord, UserRecord

_UNITS = [
    UnitRecord(id="dcs", name="市委市政府督查室", type="党政机关", leader_user_id="sup-zhang", kind="office"),
    UnitRecord(id="fgw", name="市发展和改革委员会", type="党政机关", leader_user_id="fgw-li"),
    UnitRecord(id="czj", name="市财政局", type="党政机关", leader_user_id="czj-wu"),
    UnitRecord(id="zjj", name="市住房和城乡建设局", type="党政机关", leader_user_id="zjj-he"),
    UnitRecord(id="jtj", name="市交通运输局", type="党政机关", leader_user_id="jtj-ma"),
    UnitRecord(id="jyj", name="市教育局", type="党政机关", leader_user_id="jyj-guo"),
    UnitRecord(id="gzw", name="市国有资产监督管理委员会", type="党政机关", leader_user_id="gzw-lin"),
    UnitRecord(id="gjj", name="市住房公积金管理中心", type="事业单位", leader_user_id="gjj-tang"),
    UnitRecord(id="zgh", name="市总工会", type="人民团体", leader_user_id="zgh-feng"),
    UnitRecord(id="jtjt", name="市交通建设投资集团有限公司", type="国有企业", leader_user_id="jtjt-cao"),
    UnitRecord(
        id="gwgd", name="国网甘肃省电力公司市供电公司", type="中央在甘单位", leader_user_id="gwgd-yuan"
    ),
    UnitRecord(id="jjw", name="市纪委监委", type="党政机关", leader_user_id="jjw-sun", kind="discipline"),
]


def _person(user_id: str, name: str, role: Role, unit: str | None, title: str) -> UserRecord:
    return UserRecord(
        id=user_id, name=name, role=role, unit=unit, title=title, email=f"{user_id}@duban.example"
    )


def _unit_user(user_id: str, name: str, unit: str, title: str) -> UserRecord:
    return _person(user_id, name, Role.UNIT, unit, title)


_USERS = [
    _person("sup-zhang", "张明", Role.SUPERVISOR, "dcs", "督查室主任"),
    _person("sup-liu", "刘洋", Role.SUPERVISOR, "dcs", "督查专员"),
    _unit_user("fgw-li", "李强", "fgw", "主任"),
    _unit_user("fgw-zhou", "周婷", "fgw", "综合科科长"),
    _unit_user("czj-wu", "吴海燕", "czj", "局长"),
    _unit_user("czj-xu", "徐磊", "czj", "预算科科员"),
    _unit_user("zjj-he", "何建平", "zjj", "局长"),
    _unit_user("zjj-song", "宋佳", "zjj", "办公室主任"),
    _unit_user("jtj-ma", "马志远", "jtj", "局长"),
    _unit_user("jyj-guo", "郭秀兰", "jyj", "局长"),
    _unit_user("jyj-deng", "邓晓光", "jyj", "督导科科长"),
    _unit_user("gzw-lin", "林振华", "gzw", "主任"),
    _unit_user("gjj-tang", "唐文静", "gjj", "主任"),
    _unit_user("zgh-feng", "冯桂芝", "zgh", "常务副主席"),
    _unit_user("jtjt-cao", "曹国栋", "jtjt", "董事长"),
    _unit_user("gwgd-yuan", "袁立军", "gwgd", "总经理"),
    _person("leader-wang", "王建国", Role.LEADER, None, "分管副市长"),
    _person("leader-chen", "陈立新", Role.LEADER, None, "常务副市长"),
    _person("leader-top", "杨正华", Role.LEADER, None, "一把手").model_copy(update={"top_leader": True}),
    _person("jjw-sun", "孙志刚", Role.AUDITOR, "jjw", "纪检监察室主任"),
    _person("audit-zhao", "赵敏", Role.AUDITOR, None, "审计专员"),
    _person("admin", "系统管理员", Role.ADMIN, None, "系统管理员"),
]

DEMO_ORG: OrgChart = OrgChart(units=_UNITS, users=_USERS)
"""Loaded into an empty database by the embedded default (SEED_DEMO_ORG)."""
