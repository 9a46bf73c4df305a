"""Bilingual texts of drill scripts: injects, expected actions, roles, objectives, criteria.

Texts follow the way drill designers write them. Objectives are grouped by the drill contents of
AQ/T 9007 (生产安全事故应急演练基本规范: 预警与报告, 指挥与协调, 应急通讯, 疏散与安置, 现场处置,
...), each mapped to a HSEEP core capability; rows carry the HSEEP MSEL columns; contingency
injects and corrective actions follow the HSEEP Exercise Evaluation Guide and After-Action
Report (``docs/references.md``, drill scripts). Every text is a :class:`Bi`: Chinese and
English side by side, formatted with the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACTIONS",
    "CAPABILITIES",
    "CATEGORIES",
    "DEPARTMENT_NAMES",
    "EXTRA",
    "GENERIC_SCENE",
    "HAZARD_CAPABILITY",
    "HAZARD_SCENES",
    "LEVELS",
    "OBJECTIVES",
    "RATINGS",
    "ROLES",
    "SAFETY_RULES",
    "WARNING_KINDS",
    "ActionText",
    "Bi",
    "InjectText",
]


@dataclass(frozen=True)
class Bi:
    """A text in Chinese and English."""

    zh: str
    en: str

    def format(self, **fields: object) -> Bi:
        """Both texts with ``{field}`` filled in (a field may itself be a :class:`Bi`)."""
        zh = {k: (v.zh if isinstance(v, Bi) else v) for k, v in fields.items()}
        en = {k: (v.en if isinstance(v, Bi) else v) for k, v in fields.items()}
        return Bi(self.zh.format(**zh), self.en.format(**en))

    def __add__(self, other: Bi) -> Bi:
        return Bi(self.zh + other.zh, self.en + other.en)

    def both(self, sep: str = " / ") -> str:
        """One cell with both languages."""
        return f"{self.zh}{sep}{self.en}" if self.zh != self.en else self.zh

    def as_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


# ----------------------------------------------------------------------------------------------
# AQ/T 9007 drill contents and HSEEP core capabilities
# ----------------------------------------------------------------------------------------------
#: Drill contents of AQ/T 9007 used by gridsim's actions.
CATEGORIES: dict[str, Bi] = {
    "warning_reporting": Bi("预警与报告", "Warning and reporting"),
    "command": Bi("指挥与协调", "Command and coordination"),
    "communications": Bi("应急通讯", "Emergency communications"),
    "evacuation": Bi("疏散与安置", "Evacuation and resettlement"),
    "onsite": Bi("现场处置", "On-site response"),
}

#: HSEEP core capabilities, with a Chinese rendering.
CAPABILITIES: dict[str, Bi] = {
    "operational_coordination": Bi("行动协调", "Operational Coordination"),
    "operational_communications": Bi("行动通信", "Operational Communications"),
    "public_warning": Bi("公众信息与预警", "Public Information and Warning"),
    "situational_assessment": Bi("态势评估", "Situational Assessment"),
    "search_rescue": Bi("搜索与救援", "Mass Search and Rescue Operations"),
    "fire": Bi("火灾扑救", "Fire Management and Suppression"),
    "environmental": Bi("环境应对与健康安全", "Environmental Response/Health and Safety"),
    "logistics": Bi("后勤与物资保障", "Logistics and Supply Chain Management"),
    "transportation": Bi("人员转移运输", "Critical Transportation"),
    "mass_care": Bi("群众安置", "Mass Care Services"),
}

#: What each drill content tests (the objective), with its capability.
OBJECTIVES: dict[str, tuple[Bi, str]] = {
    "command": (Bi("检验网格平急转换与指挥协调：预警或险情发生后，现场指挥官到岗、力量就地转化集结"
                   "、"
                   "前线指挥部就绪，研判并分类派出力量，按规定网格吹哨、部门报到。",
                   "Test the grid's switch to forward command and its coordination: after the "
                   "warning or the incident, the on-site commander takes the post, the standby "
                   "members convert in place and assemble, the forward command post is ready, "
                   "the commander dispatches by category and blows the whistle for a department "
                   "when the rules say so."),
                "operational_coordination"),
    "warning_reporting": (Bi("检验预警接收与信息上报：网格及时接报险情，初报逐级报至村（社区）、乡"
                             "镇（街道）"
                             "和县级，并在规定时限内完成。",
                             "Test warning reception and information reporting: the grid logs "
                             "the report of the incident at once and the initial report goes up "
                             "to the village, the township and the county within the time "
                             "limit."),
                          "operational_communications"),
    "communications": (Bi("检验通信受阻时的应急通讯：公网拥塞时改用警报、对讲机、人员传递，确保指"
                          "令和报告不中断。",
                          "Test emergency communications when the public network is congested: "
                          "alarms, radios and runners keep orders and reports flowing."),
                       "operational_communications"),
    "onsite": (Bi("检验初期处置：“应急五分钟”内首批力量到场，力量和物资到位后开展初期处置，控制险"
                  "情或完成移交。",
                  "Test the initial response: the first responder on scene within the "
                  "'5-minute' standard, the crew and supplies in place, the incident contained "
                  "or handed over."),
               "hazard"),
    "evacuation": (Bi("检验转移避险：发布转移指令，党员包户通知到户，协助行动不便人员，群众安全抵"
                      "达安置点，网格清零。",
                      "Test the evacuation: the order goes out, party members warn the "
                      "households they cover, vulnerable residents are helped, everyone reaches "
                      "a shelter and the grid is cleared."),
                   "transportation"),
}

#: The capability of the on-site response, by hazard type.
HAZARD_CAPABILITY: dict[str, str] = {
    "building_fire": "fire", "ebike_fire": "fire", "forest_fire": "fire",
    "gas_leak": "environmental", "waterlogging": "search_rescue",
    "flash_flood": "search_rescue", "landslide": "search_rescue",
}

#: HSEEP performance ratings.
RATINGS: dict[str, Bi] = {
    "P": Bi("P 圆满完成：各项行动均在时间标准内完成，未遇困难",
            "P Performed without challenges: every action within its time standard"),
    "S": Bi("S 基本完成：少数行动超时，未影响整体目标",
            "S Performed with some challenges: a few actions late, the objective met"),
    "M": Bi("M 勉强完成：多数行动超时或未观察到，目标受到明显影响",
            "M Performed with major challenges: many actions late or not observed"),
    "U": Bi("U 未能完成：行动未观察到", "U Unable to be performed: no action observed"),
}

# ----------------------------------------------------------------------------------------------
# roles and names
# ----------------------------------------------------------------------------------------------
#: Roles of players and of drill staff.
ROLES: dict[str, Bi] = {
    "commander": Bi("现场指挥官", "On-site commander"),
    "grid_leader": Bi("网格长", "Grid leader"),
    "grid_worker": Bi("值班网格员", "Grid worker on duty"),
    "info_officer": Bi("网格信息员", "Grid information officer"),
    "village_duty": Bi("村（社区）值班员", "Village/community duty officer"),
    "township_duty": Bi("乡镇（街道）值班员", "Township duty officer"),
    "county_duty": Bi("县应急管理局值班室", "County emergency management duty desk"),
    "vanguard": Bi("应急先锋队", "Vanguard team"),
    "vanguard_leader": Bi("先锋队队长", "Vanguard team leader"),
    "supply_keeper": Bi("物资储备点管理员", "Supply point keeper"),
    "party_members": Bi("包户党员", "Party members covering households"),
    "department": Bi("专业部门", "Department"),
    "director": Bi("总导演", "Exercise director"),
    "controller": Bi("演练控制人", "Controller"),
    "evaluator": Bi("评估人", "Evaluator"),
    "safety": Bi("安全员", "Safety officer"),
    "role_player": Bi("模拟群众（角色扮演）", "Role-player (resident)"),
    "met_office": Bi("县气象台（控制人扮演）", "County meteorological office (played by a controll"
                                    "er)"),
    "all_grids": Bi("全体参演网格", "All drill grids"),
}

#: Departments (gridsim.model.vocab.DEPARTMENTS) as a drill names them.
DEPARTMENT_NAMES: dict[str, Bi] = {
    "fire": Bi("消防救援站", "Fire and rescue station"),
    "police": Bi("公安派出所", "Police station"),
    "medical": Bi("120急救站", "Ambulance station"),
    "utilities": Bi("市政公用抢修队（燃气、排水）", "Utilities repair crew (gas, drainage)"),
}

#: Warning levels.
LEVELS: dict[str, Bi] = {
    "red": Bi("红色", "red"), "orange": Bi("橙色", "orange"), "yellow": Bi("黄色", "yellow"),
    "blue": Bi("蓝色", "blue"),
}

#: What a warning is about, by a word of its config name.
WARNING_KINDS: dict[str, Bi] = {
    "rainstorm": Bi("暴雨", "rainstorm"), "rain": Bi("暴雨", "rainstorm"),
    "typhoon": Bi("台风", "typhoon"), "flood": Bi("洪水", "flood"),
    "geo": Bi("地质灾害气象风险", "geohazard risk"),
    "landslide": Bi("地质灾害气象风险", "geohazard risk"),
    "fire": Bi("森林火险", "forest fire danger"), "heat": Bi("高温", "heat"),
    "cold": Bi("寒潮", "cold wave"), "snow": Bi("暴雪", "snowstorm"), "wind": Bi("大风", "gale"),
}

# ----------------------------------------------------------------------------------------------
# expected actions
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ActionText:
    """What a drill's row says about one expected action.

    ``label`` and ``criterion`` take the fields ``grid``, ``hazard``, ``dept``, ``needs``,
    ``supplies``, ``limit``, ``source``, ``grade``, ``esc`` (the grade from which the hazard is
    escalated at once), ``median`` and ``p90``; ``contingency`` is what a
    controller (``contingency_from``) delivers when the action is late; ``corrective`` is the
    corrective action an after-action report proposes.
    """

    label: Bi
    role: str
    category: str
    criterion: Bi
    contingency_from: str
    contingency: Bi
    corrective: Bi


_STD = Bi("不迟于 T+{p90}（时间标准：模拟第90百分位；中位 T+{median}）",
          "By T+{p90} (time standard: simulated 90th percentile; median T+{median})")

#: Expected actions by key (see :mod:`gridsim.drills.timings`).
ACTIONS: dict[str, ActionText] = {
    "commander_at_post": ActionText(
        Bi("{grid}现场指挥官到达前线指挥部并接管指挥",
           "{grid}: on-site commander at the command post, in command"),
        "commander", "command", _STD + Bi("；到岗后向乡镇报告", "; reports to the township on arri"
                                                       "val"),
        "township_duty",
        Bi("乡镇值班员致电{grid}网格长：“指挥官仍未到岗，请网格长立即代行指挥，并报告到岗人员。”",
           "Township duty officer phones the grid leader of {grid}: 'The commander has not "
           "reported in. Take command now and tell us who is at the post.'"),
        Bi("落实现场指挥官AB角（替补）制度；每月核对召集名单；开展不打招呼的召集演练。",
           "Name a deputy for every on-site commander; check the call-out list monthly; run "
           "no-notice call-out drills.")),
    "commander_at_post_absent": ActionText(
        Bi("{grid}指挥官缺位：网格长（或最先到岗者）代行指挥并到达前线指挥部",
           "{grid}: commander absent — the grid leader (or the first to arrive) takes command "
           "at the post"),
        "grid_leader", "command", _STD + Bi("；明确代行指挥人并报告乡镇",
                                            "; names who is in command and tells the township"),
        "township_duty",
        Bi("乡镇值班员致电{grid}：“目前由谁指挥？请立即明确并报告。”",
           "Township duty officer phones {grid}: 'Who is in command? Decide now and report.'"),
        Bi("建立指挥官缺位时的代行指挥顺序（网格长—网格员—党员骨干）并书面公布。",
           "Write down and publish the order of command when the commander is absent (grid "
           "leader, grid worker, senior party member).")),
    "quorum_assembled": ActionText(
        Bi("{grid}过半网格力量集结到岗（就地转化）",
           "{grid}: half of the grid's standby members assembled at the post (converted in "
           "place)"),
        "grid_leader", "command", _STD + Bi("；按七类储备力量清点到岗人数",
                                            "; head count by the 7 standby categories"),
        "controller",
        Bi("控制人提示网格长：按党员储备库名单逐一电话召集，并请求相邻网格支援。",
           "Controller prompts the grid leader: call the party-member reserve list one by one "
           "and ask the neighbouring grid for help."),
        Bi("更新储备力量名单和联系方式；建立党员召集树；对未到岗原因逐一分析。",
           "Update the standby roster and contacts; set up a call-out tree for party members; "
           "find out why members did not come.")),
    "post_ready": ActionText(
        Bi("{grid}前线指挥部就绪：指挥官到岗、力量集结、物资储备点开启（平急转换完成）",
           "{grid}: forward command post ready — commander in place, team assembled, supply "
           "point open (switch complete)"),
        "commander", "command", _STD + Bi("；向乡镇报告“转换完成”",
                                          "; reports 'switch complete' to the township"),
        "township_duty",
        Bi("乡镇值班员要求{grid}报告前线指挥部状态：指挥官、人员、物资哪一项未到位？",
           "Township duty officer asks {grid} for the post's status: which of commander, "
           "team or supply point is missing?"),
        Bi("制定一页纸平急转换清单；储备点钥匙放在指挥部；每季度检查储备点。",
           "Write a one-page switch checklist; keep the supply point key at the post; inspect "
           "the supply point every quarter.")),
    "incident_reported": ActionText(
        Bi("{grid}值班网格员接报{hazard}险情并登记",
           "{grid}: the grid worker on duty receives and logs the report of the {hazard}"),
        "grid_worker", "warning_reporting", _STD + Bi("；记录时间、地点、险情和人员情况",
                                                      "; logs time, place, situation, people"),
        "role_player",
        Bi("模拟群众改拨网格长手机：“值班电话没人接！{hazard}越来越严重了！”",
           "The role-player calls the grid leader's mobile: 'Nobody answers the duty phone! "
           "The {hazard} is getting worse!'"),
        Bi("值班电话24小时有人接听并转接手机；在小区公示网格值班电话。",
           "Staff the duty phone around the clock and forward it to mobiles; post the grid's "
           "number in every compound.")),
    "report_village": ActionText(
        Bi("初报送达村（社区）", "Initial report (初报) reaches the village/community"),
        "info_officer", "warning_reporting", _STD,
        "village_duty",
        Bi("村（社区）值班员致电{grid}：“听说你们那里发生{hazard}，为什么还没有报告？”",
           "Village duty officer phones {grid}: 'We heard of a {hazard} in your grid. Where is "
           "your report?'"),
        Bi("使用初报模板和一键上报；培训信息员掌握报告时限。",
           "Use the initial-report template and one-tap reporting; train information officers "
           "on the time limits.")),
    "report_township": ActionText(
        Bi("初报送达乡镇（街道）", "Initial report reaches the township"),
        "village_duty", "warning_reporting", _STD,
        "township_duty",
        Bi("乡镇值班员催报：“请立即报告{grid}{hazard}的初步情况。”",
           "Township duty officer chases: 'Report the first facts of the {hazard} in {grid} "
           "now.'"),
        Bi("村（社区）值班员收到网格报告后立即转报，不等核实完毕。",
           "Village duty officers pass reports on at once, without waiting to verify every "
           "detail.")),
    "report_county": ActionText(
        Bi("初报送达县应急管理局", "Initial report reaches the county"),
        "township_duty", "warning_reporting",
        _STD + Bi("；{grade}级事件须在接报后{limit}内报至县级（{source}）",
                  "; a grade-{grade} event must reach the county within {limit} of the report "
                  "({source})"),
        "county_duty",
        Bi("县应急管理局值班室催报：“{grid}{hazard}已超过报告时限，请立即电话报告。”",
           "County duty desk: 'The report on the {hazard} in {grid} is overdue. Phone it in "
           "now.'"),
        Bi("先电话报告、后书面报告；乡镇值班员熟记各等级时限。",
           "Phone first, write later; township duty officers know the limit of each grade.")),
    "dispatched": ActionText(
        Bi("现场指挥官研判并下令出动（分类嵌入）",
           "On-site commander assesses and dispatches the team (embedded by category)"),
        "commander", "command", _STD,
        "role_player",
        Bi("模拟群众再次来电：“险情在扩大，怎么还没有人来？”",
           "The role-player calls again: 'It is getting worse. Why is nobody coming?'"),
        Bi("按险情类型预先分配储备力量类别；培训指挥官快速研判。",
           "Pre-assign standby categories to incident types; train commanders in quick "
           "assessment.")),
    "first_on_scene": ActionText(
        Bi("首批处置力量到达现场（应急五分钟）",
           "First responder on scene (the '5-minute' standard)"),
        "vanguard", "onsite", _STD + Bi("；接报后5分钟内到场", "; on scene within 5 minutes of the"
                                                      " report"),
        "role_player",
        Bi("现场模拟群众：“这里还没有人到！”", "Role-player on scene: 'Nobody is here yet!'"),
        Bi("预警期间力量在指挥部待命；与相邻网格签订互助协议；复核最近力量。",
           "Keep responders at the post during warnings; sign mutual-aid agreements with "
           "neighbouring grids; review who is nearest.")),
    "crew_complete": ActionText(
        Bi("处置力量全部到位（{needs}）", "Full crew on scene ({needs})"),
        "vanguard_leader", "onsite", _STD,
        "vanguard_leader",
        Bi("先锋队队长向指挥部请求补充缺少的人员（{needs}）。",
           "The team leader on scene asks the post for the missing members ({needs})."),
        Bi("核对各类储备力量数量是否满足本网格主要险情需要；补充缺口类别。",
           "Check that each standby category is large enough for the grid's main hazards; "
           "recruit where short.")),
    "handling_started": ActionText(
        Bi("物资到位，开展初期处置（{supplies}）",
           "Supplies in hand, initial response under way ({supplies})"),
        "supply_keeper", "onsite", _STD,
        "controller",
        Bi("控制人告知：储备点管理员联系不上，指挥官须向相邻网格借用或向乡镇物资库调拨。",
           "Controller: the supply point keeper cannot be reached; the commander must borrow "
           "from a neighbouring grid or fetch from the township depot."),
        Bi("检查储备点库存和取用方式；与相邻网格和乡镇物资库约定借调流程。",
           "Check the supply point's stock and access; agree borrowing with neighbours and "
           "the township depot.")),
    "whistle": ActionText(
        Bi("网格吹哨：向{dept}请求专业救援", "The grid blows the whistle: calls the {dept}"),
        "commander", "command", _STD + Bi("；{esc}级及以上立即吹哨",
                                          "; at once for grade {esc} or worse"),
        "township_duty",
        Bi("乡镇值班员询问{grid}：“是否需要专业力量支援？”",
           "Township duty officer asks {grid}: 'Do you need professional help?'"),
        Bi("明确各类险情的吹哨条件并张贴在指挥部。",
           "Set out when to blow the whistle for each hazard and post it at the command "
           "post.")),
    "department_arrived": ActionText(
        Bi("{dept}到场，网格力量移交并配合", "{dept} on scene; the grid hands over and assists"),
        "department", "command", _STD + Bi("；网格派人在路口引导", "; the grid sends a guide to th"
                                                         "e junction"),
        "controller",
        Bi("控制人（扮演{dept}）来电：“我们找不到路，请派人到路口引导。”",
           "Controller (as the {dept}): 'We cannot find the way. Send someone to guide us from "
           "the junction.'"),
        Bi("与专业部门共享网格地图和进出路线；指定引导员。",
           "Share the grid map and access routes with departments; name guides.")),
    "resolved": ActionText(
        Bi("险情处置完毕（或移交完成），报送终报", "Incident resolved (or handed over); final repo"
                                 "rt sent"),
        "commander", "onsite", _STD,
        "county_duty",
        Bi("县应急管理局值班室要求报送续报：目前处置进展和人员情况。",
           "County duty desk asks for a follow-up report (续报): progress and people."),
        Bi("复盘该类险情处置流程；组织专项培训。",
           "Review the procedure for this hazard; organise targeted training.")),
    # evacuation (gridsim.evacuation)
    "evacuation_order": ActionText(
        Bi("{grid}发布转移指令（鸣警报、敲门、电话）",
           "{grid}: evacuation order given (alarm, knocking on doors, phone)"),
        "commander", "evacuation", _STD,
        "township_duty",
        Bi("乡镇值班员指令{grid}：“立即组织危险区群众转移！”",
           "Township duty officer orders {grid}: 'Move the people out of the danger zone "
           "now!'"),
        Bi("明确转移指令的发布条件和发布人；警报器定期试鸣。",
           "Set out who gives the evacuation order and when; test the alarms regularly.")),
    "first_departed": ActionText(
        Bi("{grid}首户群众出发转移", "{grid}: first household leaves"),
        "party_members", "evacuation", _STD,
        "controller",
        Bi("控制人提示包户党员逐户敲门通知。",
           "Controller prompts the party members to knock on every door they cover."),
        Bi("核对党员包户名单；每户有两种以上通知方式。",
           "Check which party member covers which household; two ways to reach each "
           "household.")),
    "warned_all": ActionText(
        Bi("{grid}全部住户收到转移通知", "{grid}: every household warned"),
        "party_members", "evacuation", _STD,
        "controller",
        Bi("控制人告知：仍有住户未接到通知，请包户党员逐户核查。",
           "Controller: some households have not heard; party members check door by door."),
        Bi("建立住户通知台账，逐户销号。", "Keep a household warning list and tick each one off.")),
    "last_departed": ActionText(
        Bi("{grid}末户群众出发转移", "{grid}: last household leaves"),
        "party_members", "evacuation", _STD,
        "grid_leader",
        Bi("网格长通报：仍有住户拒绝转移，请党员上门劝导。",
           "Grid leader: some households refuse to leave; party members go and persuade them."),
        Bi("对拒绝转移住户建立劝导预案（亲属、村干部、强制转移程序）。",
           "Plan for households that refuse (relatives, village cadres, the compulsory "
           "procedure).")),
    "vulnerable_helped": ActionText(
        Bi("{grid}行动不便等脆弱人员全部得到协助转移", "{grid}: every vulnerable resident helped o"
                                      "ut"),
        "party_members", "evacuation", _STD,
        "role_player",
        Bi("模拟群众（独居老人）来电：“我走不动，没人来接我。”",
           "Role-player (an elderly resident living alone): 'I cannot walk and nobody has come "
           "for me.'"),
        Bi("更新脆弱人群台账，落实一对一帮扶人。",
           "Update the list of vulnerable residents and name a helper for each.")),
    "first_sheltered": ActionText(
        Bi("{grid}首批群众抵达安置点", "{grid}: first evacuees reach the shelter"),
        "party_members", "evacuation", _STD,
        "controller",
        Bi("控制人告知安置点尚未开门，请联系安置点负责人。",
           "Controller: the shelter is still locked; call the shelter manager."),
        Bi("安置点钥匙和负责人双备份；预警期间提前开放。",
           "Two key holders for each shelter; open it as soon as a warning comes.")),
    "clearance": ActionText(
        Bi("{grid}网格清零：全部群众转移到安全区域并清点", "{grid}: grid cleared — everyone out an"
                                        "d counted"),
        "grid_leader", "evacuation", _STD + Bi("；安置点清点人数与台账一致",
                                               "; shelter head count matches the list"),
        "township_duty",
        Bi("乡镇值班员要求{grid}报告未转移人数及原因。",
           "Township duty officer asks {grid} how many are still in the danger zone, and why."),
        Bi("逐户销号核查；分析延误环节并修订转移预案。",
           "Tick households off one by one; analyse the delays and revise the evacuation "
           "plan.")),
}


# ----------------------------------------------------------------------------------------------
# injects
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InjectText:
    """A scenario inject: type, delivery method, sender, recipient, message and narration."""

    type: Bi
    delivery: Bi
    sender: str  # a key of ROLES
    recipient: str
    text: Bi
    narration: Bi  # 解说词: what the narrator tells the audience
    dialogue: Bi  # 指令与对白: the expected reply of the players


_SCENARIO = Bi("情景注入", "Scenario inject")

#: The warning, the incident and the extra injects (fields: grid, grids, level, warning,
#: hazard, grade, scene, place, factor, items, clock).
EXTRA: dict[str, InjectText] = {
    "warning": InjectText(
        _SCENARIO, Bi("预警平台短信 + 电话", "Warning platform SMS + phone call"),
        "met_office", "grid_leader",
        Bi("【这是演练】县气象台发布{warning}{level}预警，影响{grids}。"
           "请立即启动平急转换，开设前线指挥部。",
           "[THIS IS A DRILL] The county meteorological office issues a {level} {warning} "
           "warning for {grids}. Switch to forward command and open the command post now."),
        Bi("{clock}，县气象台发布{warning}{level}预警。参演网格接到预警，网格长拉响警报，"
           "储备力量就地转化、向前线指挥部集结。",
           "At {clock} the meteorological office issues a {level} {warning} warning. The drill "
           "grids "
           "receive it; the grid leaders sound the alarm and the standby members head for the "
           "command posts."),
        Bi("网格长：“收到{warning}{level}预警！启动前线指挥部，全体储备力量立即到岗！”",
           "Grid leader: 'The {level} {warning} warning is in! Forward command post open — all "
           "standby "
           "members to the post now!'")),
    "incident": InjectText(
        _SCENARIO, Bi("现场布景 + 模拟群众电话报警", "Staged scene + role-player's phone call"),
        "role_player", "grid_worker",
        Bi("【这是演练】{grid}：{scene}（{hazard}，{grade}）。",
           "[THIS IS A DRILL] {grid}: {scene} ({hazard}, grade {grade})."),
        Bi("{grid}发生{hazard}：{scene}。群众发现后向网格报告，网格启动初期处置。",
           "A {hazard} in {grid}: {scene}. Residents report it to the grid, which starts the "
           "initial response."),
        Bi("值班网格员：“收到！请说清地点和被困人员情况，我们马上到！”",
           "Grid worker: 'Got it! Tell me exactly where and who is trapped — we are on our "
           "way!'")),
    "commander_absent": InjectText(
        _SCENARIO, Bi("控制人递交情况卡", "Controller's message card"),
        "controller", "grid_leader",
        Bi("【这是演练】{grid}现场指挥官今日外出，电话无法接通，无法到岗。",
           "[THIS IS A DRILL] The on-site commander of {grid} is away today and cannot be "
           "reached."),
        Bi("意外情况：{grid}现场指挥官外出联系不上，考验指挥缺位时的代行指挥。",
           "A twist: the commander of {grid} is away and cannot be reached; who takes "
           "command?"),
        Bi("网格长：“指挥官联系不上，由我代行指挥，立即向乡镇报告！”",
           "Grid leader: 'The commander is out of reach — I take command. Tell the township!'")),
    "road_blocked": InjectText(
        _SCENARIO, Bi("现场设置路障 + 对讲机通报", "Roadblock set up + radio message"),
        "controller", "commander",
        Bi("【这是演练】通往{grid}的主要道路被倒伏树木/塌方阻断，车辆须绕行（行车时间约为平时的{factor}倍）。",
           "[THIS IS A DRILL] The main road into {grid} is blocked by a fallen tree / a slip; "
           "vehicles must detour (driving takes about {factor} times as long)."),
        Bi("意外情况：进入{grid}的道路中断，支援力量和专业部门须绕行。",
           "A twist: the road into {grid} is cut; help and departments must detour."),
        Bi("现场指挥官：“道路中断！派人到路口引导，通知支援力量走备用路线！”",
           "Commander: 'Road cut! Send a guide to the junction; tell the helpers to take the "
           "other road!'")),
    "supply_short": InjectText(
        _SCENARIO, Bi("控制人递交物资清单", "Controller's message card (stock list)"),
        "controller", "supply_keeper",
        Bi("【这是演练】{grid}物资储备点的{items}上周已借出，目前库存为零。",
           "[THIS IS A DRILL] The supply point of {grid} has no {items}: lent out last week."),
        Bi("意外情况：{grid}储备点缺少{items}，须向相邻网格借用或向乡镇物资库调拨。",
           "A twist: the supply point of {grid} has no {items}; borrow from neighbours or "
           "fetch from the township depot."),
        Bi("物资管理员：“储备点没有{items}了！请求相邻网格和乡镇物资库支援！”",
           "Supply keeper: 'We are out of {items}! Ask the neighbours and the township "
           "depot!'")),
    "comms_congested": InjectText(
        _SCENARIO, Bi("控制人宣布：手机通话受限", "Controller's announcement: phones degraded"),
        "controller", "all_grids",
        Bi("【这是演练】区域公网通信拥塞，电话和短信延迟（约为平时的{factor}倍）。请使用警报、对讲机和人员传递。",
           "[THIS IS A DRILL] The mobile network is congested across the area: calls and "
           "messages are slow (about {factor} times). Use alarms, radios and runners."),
        Bi("意外情况：公网拥塞，通知和报告变慢，考验应急通讯手段。",
           "A twist: the public network is congested; alarms and reports slow down."),
        Bi("网格长：“改用对讲机！信息员跑步到村委会报告！”",
           "Grid leader: 'Switch to radios! Information officer, run the report to the "
           "village office!'")),
    "second_incident": InjectText(
        _SCENARIO, Bi("现场布景 + 模拟群众电话报警", "Staged scene + role-player's phone call"),
        "role_player", "grid_worker",
        Bi("【这是演练】{grid}：{scene}（{hazard}，{grade}）。",
           "[THIS IS A DRILL] {grid}: {scene} ({hazard}, grade {grade})."),
        Bi("次生险情：{grid}又发生{hazard}：{scene}。力量须同时应对两处险情。",
           "A second incident: a {hazard} in {grid}: {scene}. The forces must answer two "
           "incidents at once."),
        Bi("现场指挥官：“第二处险情！按预案分出一组力量前往！”",
           "Commander: 'A second incident! Split off a team to it, as planned!'")),
    "evacuation": InjectText(
        _SCENARIO, Bi("乡镇指令（电话 + 预警平台）", "Township order (phone + warning platform)"),
        "township_duty", "commander",
        Bi("【这是演练】{grids}危险区群众立即转移至安置点。", "[THIS IS A DRILL] Move everyone in "
                                          "the "
           "danger zone of {grids} to the shelters now."),
        Bi("险情升级，乡镇下达转移指令。网格鸣响警报，党员逐户通知，协助行动不便人员转移至安置点。",
           "The danger grows; the township orders the evacuation. The grids sound the alarm, "
           "party members knock on doors and help vulnerable residents to the shelters."),
        Bi("现场指挥官：“立即转移！党员按包户名单逐户通知，先转移老人和行动不便人员！”",
           "Commander: 'Evacuate now! Party members, go door to door on your lists — the "
           "elderly and disabled first!'")),
}

#: Staged scenes per hazard type (the seed picks one; see ``variants.SCENE_VARIANTS``).
HAZARD_SCENES: dict[str, tuple[Bi, ...]] = {
    "building_fire": (
        Bi("5号楼三楼冒出浓烟，一名独居老人可能在屋内", "smoke from the third floor of "
           "building 5; an elderly resident living alone may be inside"),
        Bi("临街餐馆后厨起火，火势蔓延至屋檐", "a kitchen fire in a street restaurant "
           "spreads to the eaves")),
    "ebike_fire": (
        Bi("2号楼楼道内充电的电动自行车起火，浓烟充满楼梯间", "an e-bike charging in the "
           "stairwell of building 2 catches fire; smoke fills the stairs"),
        Bi("小区电动自行车棚起火，两辆车正在燃烧", "the compound's e-bike shed is on fire; "
           "two bikes burning")),
    "gas_leak": (
        Bi("7号楼3单元燃气味浓烈，住户听到嘶嘶声", "a strong gas smell in unit 3 of building "
           "7; residents hear hissing"),
        Bi("市场旁施工挖断燃气管道", "a digger breaks a gas pipe at the roadworks by the "
           "market")),
    "waterlogging": (
        Bi("地下车库积水40厘米并持续上涨", "water 40 cm deep in the underground car park, "
           "still rising"),
        Bi("下穿通道积水，一辆小车熄火，车内有两人", "the underpass floods; a car stalls "
           "with two people inside")),
    "flash_flood": (
        Bi("溪水暴涨，漫水路被淹，下游有5户人家", "the stream rises fast and covers the ford "
           "road; five households live downstream"),
        Bi("监测点水位超过红线，小桥受到威胁", "the monitoring point reads above the red "
           "line; the footbridge is threatened")),
    "landslide": (
        Bi("三户民房后山坡出现裂缝并有落石", "cracks open in the slope behind three houses; "
           "stones are falling"),
        Bi("小型滑坡掩埋村道，坡体仍在蠕动", "a small slide buries the village road and the "
           "slope is still moving")),
    "forest_fire": (
        Bi("村后山坡冒烟，祭祀用火引燃杂草", "smoke on the hillside behind the village: "
           "a ritual fire has spread to the grass"),
        Bi("焚烧秸秆引燃林地", "burning straw has spread into the woods")),
}

#: A scene for hazard types without their own.
GENERIC_SCENE = Bi("现场出现险情，有群众受到威胁", "an incident threatens residents")

#: Safety rules of every drill (HSEEP exercise safety; AQ/T 9007 drill safety).
SAFETY_RULES: tuple[Bi, ...] = (
    Bi("所有通话、短信和情况卡以“这是演练”开头和结尾。",
       "Every call, message and card begins and ends with 'This is a drill'."),
    Bi("真实紧急情况优先：任何人发现真实险情，呼叫暗语“实战”，总导演立即宣布暂停演练。",
       "A real emergency comes first: anyone who sees one calls the codeword 'REAL WORLD'; "
       "the director stops the drill at once."),
    Bi("安全员有权随时叫停任何行动；听到安全员哨声，全体原地停止。",
       "The safety officer may halt any action at any time; on the safety officer's whistle "
       "everyone stops where they are."),
    Bi("不使用真实明火和燃气；烟雾只用批准的发烟设备。",
       "No real fire or gas; smoke only from approved smoke machines."),
    Bi("车辆遵守交通规则，不鸣警笛、不超速；步行不跑动，上下楼梯扶扶手。",
       "Vehicles obey traffic rules, no sirens, no speeding; walk, do not run; hold the "
       "rail on stairs."),
    Bi("脆弱人员由自愿参加的成年志愿者扮演，不实际搬运真实的行动不便人员。",
       "Vulnerable residents are played by adult volunteers; real residents with limited "
       "mobility are not moved."),
    Bi("遇雷电、暴雨等恶劣天气，室外环节暂停。",
       "Outdoor parts pause in thunder, heavy rain or other severe weather."),
    Bi("医疗保障人员全程待命，任何受伤立即报告。",
       "A medical team stands by throughout; any injury is reported at once."),
    Bi("演练前告知周边群众（社会沟通），演练区域设置标识。",
       "Residents nearby are told beforehand (public communication); the drill area is "
       "signposted."),
)
