"""Rating levels, pause reasons and bad-rating reasons, with their Chinese labels.

This is the one place where the Chinese labels live; devices, web pages and reports import
them from here. Levels travel as names, never numbers (see docs/protocol.md).
"""

# Best first: the order of the five keys on the device, left to right.
LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")

LEVEL_LABELS = {
    "very_satisfied": "非常满意",
    "satisfied": "满意",
    "basic": "基本满意",
    "dissatisfied": "不满意",
    "very_dissatisfied": "非常不满意",
}

# 差评: these open a follow-up case.
BAD_LEVELS = ("dissatisfied", "very_dissatisfied")
# 好评 in the standard's statistics.
GOOD_LEVELS = ("very_satisfied", "satisfied", "basic")

# Offered on the rating keys after a bad rating; the fifth key skips.
BAD_REASONS = ("attitude", "slow", "unclear", "process")
BAD_REASON_LABELS = {
    "attitude": "服务态度差",
    "slow": "办理时间长",
    "unclear": "告知不清楚",
    "process": "流程太繁琐",
}

# Chosen on the five keys after 暂停.
PAUSE_REASONS = ("meeting", "training", "meal", "away", "other")
PAUSE_REASON_LABELS = {
    "meeting": "会议",
    "training": "培训",
    "meal": "就餐",
    "away": "临时离岗",
    "other": "其他",
}


def is_bad(level):
    """True for 不满意 and 非常不满意, the levels that open a follow-up case."""
    return level in BAD_LEVELS


def label(level):
    """The Chinese label of a rating level name."""
    return LEVEL_LABELS[level]


# Queue (排队叫号): the hall's areas a service belongs to.
AREAS = ("consult", "window", "helper")
AREA_LABELS = {
    "consult": "咨询辅导区",
    "window": "办事窗口区",
    "helper": "帮办代办",
}

# Who may be given a priority ticket (绿色通道); a guide checks before issuing one.
PRIORITY_KINDS = ("elderly", "disabled", "military", "pregnant", "green")
PRIORITY_LABELS = {
    "elderly": "老年人",
    "disabled": "残疾人",
    "military": "军人",
    "pregnant": "孕妇",
    "green": "绿色通道",
}

# A queue ticket's life, as shown on its live status page.
TICKET_STATES = ("waiting", "called", "parked", "missed", "done", "expired")
TICKET_STATE_LABELS = {
    "waiting": "等候中",
    "called": "已叫号",
    "parked": "暂挂",
    "missed": "已过号",
    "done": "已办结",
    "expired": "已失效",
}


# Follow-up of a 差评 (差评整改): a case's states and the steps taken on it.
CASE_STATES = ("open", "visited", "verified", "fixed", "explained", "closed", "appealed", "void")
CASE_STATE_LABELS = {
    "open": "待回访",
    "visited": "已回访",
    "verified": "已核实",
    "fixed": "已整改",
    "explained": "已说明",
    "closed": "已办结",
    "appealed": "申诉中",
    "void": "申诉成立",
}
CASE_ACTION_LABELS = {
    "open": "立案",
    "visit": "回访",
    "verify": "核实",
    "fix": "整改",
    "explain": "说明",
    "citizen_view": "群众评价整改",
    "close": "无法联系办结",
    "reassign": "改派",
    "appeal": "申诉",
    "decide": "申诉裁定",
    "escalate": "超期督办",
}
APPEAL_REASON_LABELS = {
    "malicious": "恶意差评",
    "mistaken": "误评",
}

# The standard's statistics, as report column headers.
STAT_LABELS = {
    "period": "统计周期",
    "key": "编号",
    "name": "名称",
    "offered": "发起评价数",
    "rated": "评价数",
    "unrated": "未评价数",
    "good": "好评数",
    "bad": "差评数",
    "excluded": "申诉剔除数",
    "visited": "已回访数",
    "resolved": "已整改数",
    "on_time": "按时整改数",
    "due": "应整改数",
    "good_rate": "好评率",
    "bad_rate": "差评率",
    "unrated_rate": "未评价率",
    "active_rate": "主动评价率",
    "fix_rate": "差评整改率",
    "visit_rate": "回访率",
    "on_time_rate": "按时整改率",
}
STAT_GROUP_LABELS = {
    "hall": "大厅",
    "clerk": "工作人员",
    "window": "窗口",
    "service": "业务",
    "matter": "事项",
}


# Attendance flags of a clerk's day (gateway/attendance.py), as the dashboard and report show them.
ATTENDANCE_FLAG_LABELS = {
    "absent": "缺勤",
    "late": "迟到",
    "early_leave": "早退",
    "long_pause": "暂停超时",
    "away": "离岗超时",
}

# A window as the manager's dashboard shows it.
WINDOW_STATE_LABELS = {
    "serving": "服务中",
    "paused": "暂停服务",
    "closed": "未登录",
    "offline": "设备离线",
}

DEVICE_KIND_LABELS = {
    "terminal": "窗口终端",
    "ratingbox": "评价器",
}
