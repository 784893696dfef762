"""The words people use for a button's choice, in both languages: `EV` and `电车` are the
new-energy button, `自用` the personal one, "late once last year" a late payment.

`match_choice` returns the choice and whether the words said it outright (the whole
answer is one of the words: use it) or only contain it (a sentence around a word: echo it
back for a tap to confirm). Both languages are read whatever the chat's language is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import get_close_matches

from services.applications.spoken import clean

# For each question's choices, in the order they are tried: the first that matches wins,
# so a negation ("no late payments") comes before the word it negates ("late"), and a
# vague word ("good", "没有") after both. A choice may appear twice for that reason.
Table = tuple[tuple[str, tuple[str, ...]], ...]  # (choice, its words), in the order tried
CHOICE_WORDS: dict[str, Table] = {
    "vehicle_condition": (
        ("used", ("used", "used car", "second hand", "second-hand", "secondhand", "pre-owned", "二手的",
                  "preowned", "二手", "二手车", "旧车", "旧的", "中古车", "准新车", "准新", "次新车",
                  "nearly new", "almost new", "nearly-new", "ex-demo", "demo car")),
        ("new", ("new", "new car", "brand new", "brand-new", "新", "新车", "全新", "新的", "买新车")),
    ),
    "powertrain": (
        ("nev", ("nev", "ev", "bev", "phev", "erev", "electric", "electric car", "e-car", "plug-in",
                 "plug in hybrid", "plug-in hybrid", "plugin hybrid", "new energy", "new-energy",
                 "新能源", "新能源车", "电车", "电动", "电动车", "纯电", "纯电动", "插混", "插电",
                 "插电混动", "增程", "增程式", "绿牌", "插电混合", "插电式混动", "插电式混合动力", "phev hybrid")),
        ("fuel", ("fuel", "petrol", "gas", "gasoline", "diesel", "ice", "combustion", "燃油",
                  "燃油车", "油车", "汽油", "汽油车", "柴油", "柴油车", "蓝牌",
                  # An ordinary hybrid (HEV) is not new energy in China: a fuel car.
                  "hybrid", "hev", "full hybrid", "mild hybrid", "self-charging hybrid",
                  "混动", "油电混合", "油电混动", "混合动力", "油混", "弱混", "轻混", "双擎")),
    ),
    "use": (
        ("business", ("business", "commercial", "company", "company car", "taxi",
                      "ride-hailing", "ride hailing", "didi", "delivery", "商用", "营运", "运营",
                      "公司", "公司用", "生意", "做生意", "网约车", "跑网约车", "出租车", "拉货",
                      "跑滴滴", "公用", "for work", "work car", "work use", "used for work", "for my work",
                      "for the business", "工作用", "办公用", "公司车", "单位用")),
        ("personal", ("personal", "private", "personal use", "own use", "for myself", "myself",
                      "family", "me", "自用", "个人", "个人用", "个人自用", "私人", "私用", "家用",
                      "自己用", "私家车", "家里用", "commute", "commuting", "通勤", "上下班", "代步")),
    ),
    "method": (
        ("equal-principal", ("equal principal", "principal", "declining", "decreasing",
                             "等额本金", "本金")),
        ("balloon", ("balloon", "balloon payment", "lump sum", "final payment", "尾款",
                     "弹性尾款", "气球贷", "尾付")),
        ("annuity", ("equal payments", "equal payment", "equal", "fixed", "same every month",
                     "annuity", "等额本息", "本息", "等额", "每月一样", "月供固定", "固定月供")),
    ),
    "employment": (
        ("business_owner", ("business owner", "owner", "i own a company", "entrepreneur",
                            "boss", "company owner", "企业主", "老板", "开公司", "自己开公司",
                            "创业", "公司老板", "私营业主", "my own company", "i run a company", "我是老板")),
        ("self_employed", ("self-employed", "self employed", "freelance", "freelancer",
                           "contractor", "gig worker", "sole trader", "自由职业", "自由职业者",
                           "个体", "个体户", "自雇", "自己干", "灵活就业", "自己做生意", "做生意", "做小生意",
                           "做买卖", "开店", "开店的", "自己开店", "摆摊", "uber", "uber driver",
                           "didi driver", "lyft", "grab driver", "ride-hailing driver",
                           "delivery driver", "courier", "滴滴", "滴滴司机", "网约车司机",
                           "跑滴滴", "跑网约车", "外卖", "外卖员", "骑手", "快递员", "i run a shop",
                           "my own business", "self employed business")),
        ("retired", ("retired", "pensioner", "retiree", "on a pension", "退休", "已退休",
                     "退休了", "退休人员")),
        ("salaried", ("salaried", "employee", "employed", "staff", "office worker", "worker",
                      "full-time", "full time", "salary", "i have a job", "civil servant",
                      "在职", "在职员工", "员工", "工薪", "工薪族", "上班", "上班族", "打工",
                      "公务员", "职员", "受薪", "受薪人士", "白领", "蓝领", "国企", "事业单位")),
        ("other", ("other", "student", "unemployed", "none", "其他", "学生", "无业", "待业",
                   "自由")),
    ),
    "credit_history": (
        ("clean", ("no late payments", "no late payment", "never late", "never missed",
                   "never missed a payment", "never been late", "always on time", "always paid on time",
                   "无逾期", "没有逾期", "没逾期", "从未逾期", "从没逾期", "从来没逾期", "从来没有逾期",
                   "无逾期记录", "没有过逾期", "不曾逾期", "按时还款", "一直按时", "从不逾期")),
        ("default", ("default", "defaulted", "in default", "currently overdue", "overdue now",
                     "behind now", "behind on payments", "collections", "in collections",
                     "blacklisted", "bad debt", "目前有逾期", "现在有逾期", "正在逾期", "当前逾期",
                     "目前逾期", "还有逾期", "违约", "呆账", "坏账", "黑名单", "失信", "被执行",
                     "催收", "还没还上")),
        ("late", ("late", "late payment", "late payments", "was late", "missed", "missed a payment",
                  "once late", "a few times late", "overdue", "逾期过", "有过逾期", "有逾期",
                  "逾期", "晚还", "迟还", "忘还", "晚了几天", "逾期一次", "逾期两次", "bad",
                  "not good", "poor", "not great", "so-so", "average", "arrears", "behind once",
                  "不好", "不太好", "一般", "较差", "差", "不良", "有不良记录", "拖欠过", "拖欠")),
        ("clean", ("clean", "good", "very good", "excellent", "perfect", "fine", "ok", "okay",
                   "on time", "no problems", "no problem", "no issues", "none", "no", "nothing",
                   "良好", "很好", "不错", "正常", "挺好", "信用良好", "信用很好", "没问题",
                   "没有", "无", "干净", "好")),
    ),
}  # fmt: skip


# "no overdue", "never late", "没有违约", "从未逾期": a bad word after a negation means the
# opposite. The gap between them is a few words, never across punctuation.
_BAD_EN = r"(?:late|overdue|default(?:s|ed)?|missed|delinquen\w*|arrears|behind|collections?)"
_BAD_ZH = r"(?:逾期|违约|拖欠|欠款|晚还|迟还|呆账|坏账|催收|黑名单|失信|不良)"
_NEGATED = re.compile(
    rf"(?:\b(?:no|never|not|without|zero|nothing|none)\b|n't\b)(?:\s+[a-z']+){{0,3}}?\s+{_BAD_EN}\b"
    rf"|(?:没有|没|从没|从来没|从未|无|未|不曾|从不)[^,.!?;:\s]{{0,3}}?{_BAD_ZH}"
)
# Not knowing is no answer: the buttons are shown again.
_UNSURE = ("有没有", "不知道", "不清楚", "不确定", "不记得", "don't know", "dont know",
           "not sure", "no idea", "maybe")  # fmt: skip


@dataclass(frozen=True)
class ChoiceMatch:
    choice: str
    outright: bool  # the whole answer was one of the words


_TRIM = " .!?,;:。！？，；：~"
# Words that name a choice but may mean the other one ("混动" is said of plug-in hybrids
# too): read back for a tap even when they are the whole answer.
_DOUBTFUL = frozenset({"hybrid", "混动", "混合动力"})


def match_choice(question: str, text: str) -> ChoiceMatch | None:
    """The choice `text` names for `question`, or None when it names none."""
    table = CHOICE_WORDS.get(question, ())
    wanted = clean(text).strip(_TRIM)
    if not wanted:
        return None
    for choice, words in table:
        if wanted in words:
            return ChoiceMatch(choice, outright=wanted not in _DOUBTFUL)
    if question == "credit_history":
        return _credit_history(wanted, table)
    return _contained(wanted, table)


def _credit_history(wanted: str, table: Table) -> ChoiceMatch | None:
    """Negations read as a clean record; a record both denied and admitted, or not known,
    is no answer (never the worst choice by default)."""
    if any(word in wanted for word in _UNSURE):
        return None
    rest = _NEGATED.sub(" | ", wanted)
    if rest == wanted:
        return _contained(wanted, table)
    bad = [word for choice, words in table if choice != "clean" for word in words]
    if any(_contains(rest, word) for word in bad):
        return None
    return ChoiceMatch("clean", outright=False)


def _contained(wanted: str, table: Table) -> ChoiceMatch | None:
    for choice, words in table:
        if any(_contains(wanted, word) for word in words):
            return ChoiceMatch(choice, outright=False)
    return _misspelt(wanted, table)


def _misspelt(wanted: str, table: Table) -> ChoiceMatch | None:
    """`emplyee`, `retird`: a Latin word one slip away from a choice's word, read back."""
    if not wanted.isascii() or len(wanted) < 5:
        return None
    owners = {word: choice for choice, words in reversed(table) for word in words if len(word) >= 5}
    close = get_close_matches(wanted, list(owners), n=1, cutoff=0.85)
    return ChoiceMatch(owners[close[0]], outright=False) if close else None


def _contains(text: str, word: str) -> bool:
    """`word` inside `text`: as a whole word for Latin script, anywhere for Chinese."""
    if word.isascii():
        return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text) is not None
    return word in text


# Typed answers to "I read that as …, is that right?": they work like the ✓ and ✗ buttons.
YES_WORDS = frozenset(
    {
        "yes", "y", "yeah", "yep", "yup", "ok", "okay", "sure", "right", "correct", "exactly",
        "that's right", "thats right", "that is right", "yes please", "confirm", "✓", "✓ yes",
        "对", "是", "是的", "对的", "对啊", "是啊", "好", "好的", "嗯", "嗯嗯", "没错", "正确",
        "行", "可以", "确认", "没问题", "✓ 对",
    }
)  # fmt: skip
NO_WORDS = frozenset(
    {
        "no", "n", "nope", "nah", "wrong", "not right", "incorrect", "that's wrong", "✗",
        "不对", "不是", "不", "错", "错了", "不正确", "否", "不对的",
    }
)  # fmt: skip


def confirmation(text: str) -> bool | None:
    """True for a yes ("对", "ok"), False for a no ("不对", "n"), None for anything else."""
    said = clean(text).strip(_TRIM)
    if said in YES_WORDS:
        return True
    if said in NO_WORDS:
        return False
    return None


# Typed instead of the ⬅ button and the "talk to a manager" button.
BACK_WORDS = frozenset(
    {
        "back", "go back", "previous", "previous question", "undo", "⬅", "<",
        "上一步", "返回", "上一题", "上一个", "回到上一步", "后退", "退回",
    }
)  # fmt: skip
_HUMAN_WORDS = frozenset(
    {
        "human", "agent", "person", "a person", "a human", "manager", "a manager", "operator",
        "real person", "live agent", "customer service",
        "转人工", "人工", "人工客服", "客服", "找人工", "真人", "客户经理", "找客户经理",
        "联系客户经理", "我要人工", "人工服务",
    }
)  # fmt: skip
_HUMAN_SENTENCE = re.compile(
    r"\b(?:talk|speak|chat|connect me)\s+(?:to|with)\s+(?:a|an|the|your|some)?\s*"
    r"(?:real\s+)?(?:person|human|manager|agent|someone|people|operator)\b"
    r"|转人工|人工客服|找人工|要人工|真人客服|联系客户经理|找客户经理"
)


def asks_back(text: str) -> bool:
    """`上一步`, `返回`, "back": the previous question, as the ⬅ button."""
    return clean(text).strip(_TRIM) in BACK_WORDS


def asks_for_human(text: str) -> bool:
    """`转人工`, `人工`, "I want to talk to a person", "agent": as the manager button."""
    said = clean(text).strip(_TRIM)
    return said in _HUMAN_WORDS or _HUMAN_SENTENCE.search(said) is not None
