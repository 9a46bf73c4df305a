"""The fixed vocabularies of the domain (see ``docs/domain.md``), English key with Chinese term.

Config files and scenario data refer to these keys; validation rejects anything else.
"""

from __future__ import annotations

__all__ = [
    "CATEGORIES",
    "DEPARTMENTS",
    "EXPOSURES",
    "FIND_CHANNELS",
    "GRADES",
    "GRID_KINDS",
    "HAZARD_CLASSES",
    "HOPS",
    "LOOP_STAGES",
    "MODES",
    "ROAD_CLASSES",
    "ROLES",
    "SUPPLY_ITEMS",
    "ZH",
]

#: Grid kinds (网格类型).
GRID_KINDS: tuple[str, ...] = ("urban_community", "rural", "enterprise", "commercial")

#: The 7 standby categories of the party-member reserve pool (党员储备库). docs/domain.md names the
#: first three; the other four are assumptions.
CATEGORIES: tuple[str, ...] = (
    "rescue", "order", "relocation", "medical", "firefighting", "logistics", "information",
)

#: Roles a person may hold (多员合一: one person may hold several).
ROLES: tuple[str, ...] = ("grid_leader", "commander", "grid_worker", "party_member")

#: Grid supply-point items (应急物资储备点).
SUPPLY_ITEMS: tuple[str, ...] = ("alarm", "extinguisher", "first_aid_kit", "sandbag")

#: Professional departments (部门) that answer an escalation (网格吹哨、部门报到).
DEPARTMENTS: tuple[str, ...] = ("fire", "police", "medical", "utilities")

#: What a hazard type's rate is per unit of (``catalogue.hazards.<h>.exposure``): each names an
#: array over the grids, :meth:`gridsim.model.region.Grids.exposure`. ``grid`` is one per grid
#: (the rate per grid per day); ``flood_prone_residents`` and ``flood_prone_households`` are
#: residents and households times the grid's flood-prone share.
EXPOSURES: tuple[str, ...] = (
    "grid", "residents", "households", "buildings", "compounds", "ebikes", "enterprises",
    "area_km2", "forest_km2", "steep_slope_km2", "flood_prone_residents",
    "flood_prone_households", "monitoring_points",
)

#: Event grades, most serious first (Ⅰ 特别重大 … Ⅳ 一般).
GRADES: tuple[str, ...] = ("I", "II", "III", "IV")

#: Grid modes of the switch (平急转换).
MODES: tuple[str, ...] = ("PEACE", "ALERT", "FORWARD_COMMAND", "RECOVERY")

#: Hops of the information-reporting chain (三级包保 + county).
#: The extra injects a drill's seed may choose among (``drill.extra_injects``; gridsim.drills).
EXTRA_INJECTS: tuple[str, ...] = (
    "commander_absent", "road_blocked", "supply_short", "comms_congested", "second_incident",
)

HOPS: tuple[str, ...] = ("grid_to_village", "village_to_township", "township_to_county")

#: Classes of peacetime hazard (隐患类别, gridsim.engine.peacetime): each raises the matching
#: incident types in its grid (``peacetime.classes.<c>.raises``).
HAZARD_CLASSES: tuple[str, ...] = (
    "electrical", "gas", "fire_load", "ebike_indoor", "structural", "geohazard",
)

#: The channels that find hazards: 大排查 inspection campaigns by grid workers, 随手拍
#: residents' snapshots, 敲门行动 door-knocking by party members, video AI over the feeds.
FIND_CHANNELS: tuple[str, ...] = ("inspection", "snapshot", "door_knocking", "video_ai")

#: The stages of the closed loop 四单四办, in order: residents raise it (群众点单), the owners'
#: committee files it (业委会提单), the party branch dispatches it (支部派单), the property
#: company or committee does the work led by a party member (党员领办, 承办, 协办), the owners
#: rate the fix (业主评单; unsatisfied: back to work).
LOOP_STAGES: tuple[str, ...] = ("raise", "file", "dispatch", "work", "rate")

ZH: dict[str, str] = {
    "urban_community": "城市社区", "rural": "农村", "enterprise": "企业", "commercial": "商圈",
    "rescue": "救援抢险", "order": "秩序维护", "relocation": "转移安置", "medical": "医疗救护",
    "firefighting": "灭火", "logistics": "后勤保障", "information": "信息报送",
    "grid_leader": "网格长", "commander": "现场指挥官", "grid_worker": "网格员",
    "party_member": "党员", "alarm": "警报器", "extinguisher": "灭火器",
    "first_aid_kit": "急救包", "sandbag": "防汛沙袋", "fire": "消防", "police": "公安",
    "utilities": "市政公用", "PEACE": "平时", "ALERT": "预警", "FORWARD_COMMAND": "前线指挥部",
    "RECOVERY": "恢复", "I": "特别重大", "II": "重大", "III": "较大", "IV": "一般",
    "building_fire": "建筑火灾", "ebike_fire": "电动自行车火灾", "gas_leak": "燃气泄漏",
    "waterlogging": "城市内涝", "flash_flood": "山洪", "landslide": "滑坡",
    "forest_fire": "森林火灾",
    "grid": "网格", "residents": "常住人口", "households": "户", "buildings": "建筑",
    "compounds": "小区", "ebikes": "电动自行车", "enterprises": "企业", "area_km2": "面积",
    "forest_km2": "林地面积", "steep_slope_km2": "陡坡面积",
    "flood_prone_residents": "易涝区人口", "flood_prone_households": "易涝区户数",
    "monitoring_points": "重点监测点",
    "electrical": "用电隐患", "gas": "燃气隐患", "fire_load": "消防通道及可燃物",
    "ebike_indoor": "电动车进楼入户", "structural": "房屋结构隐患", "geohazard": "地灾隐患点",
    "inspection": "大排查", "snapshot": "随手拍", "door_knocking": "敲门行动",
    "video_ai": "视频AI识别",
    "raise": "群众点单", "file": "业委会提单", "dispatch": "支部派单", "work": "承办整改",
    "rate": "业主评单",
}

#: Road classes of a road network (index into this tuple): gridsim's synthetic roads and a
#: scenario folder's roads, mapped onto these (gridsim.place.folder.roads).
ROAD_CLASSES: tuple[str, ...] = ("urban", "rural", "arterial")
