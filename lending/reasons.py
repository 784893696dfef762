"""Reason codes and notes in plain words, in English and Chinese.

Pure data: the assessment returns codes with parameters, and anything that talks to a
person (chat, CLI, manager card) turns them into text here, so the two locales always
say the same thing.
"""

from decimal import Decimal
from typing import Literal

Locale = Literal["en", "zh"]

REASON_TEXTS: dict[str, dict[str, str]] = {
    # Hard rules: any one declines, whatever the score.
    "age_below_minimum": {
        "en": "Applicants must be at least {min_age} years old.",
        "zh": "申请人须年满{min_age}周岁。",
    },
    "age_above_maximum_at_end": {
        "en": "You would be over {max_age} when the loan ends; a shorter term may work.",
        "zh": "贷款到期时您的年龄将超过{max_age}岁，可尝试缩短期限。",
    },
    "credit_default": {
        "en": "A current default on another loan must be settled first.",
        "zh": "您目前有逾期未还的贷款，需先结清。",
    },
    "income_below_minimum": {
        "en": "Monthly income must be at least ¥{min_income}.",
        "zh": "月收入需不低于{min_income}元。",
    },
    "loan_below_minimum": {
        "en": "The loan would be below our minimum of ¥{min_loan}.",
        "zh": "贷款金额低于最低额度{min_loan}元。",
    },
    "ltv_above_cap": {
        "en": "The loan would be {ltv}% of the price; at most {cap}% is allowed, "
        "so the down payment must be at least ¥{min_down}.",
        "zh": "贷款占车价{ltv}%，上限为{cap}%，首付至少需{min_down}元。",
    },
    "pti_above_cap": {
        "en": "The monthly payment would be {pti}% of your income; at most {cap}% is allowed.",
        "zh": "月供占收入的{pti}%，上限为{cap}%。",
    },
    "dti_above_cap": {
        "en": "All your monthly debt payments would be {dti}% of your income; "
        "at most {cap}% is allowed.",
        "zh": "包括新贷款在内的月还款占收入的{dti}%，上限为{cap}%。",
    },
    "term_not_offered": {
        "en": "A {term}-month term is not offered for this car; choose one of {terms}.",
        "zh": "该车辆不提供{term}期贷款，可选期限：{terms}。",
    },
    "vehicle_too_old_at_end": {
        "en": "The car would be older than {max_age} years when the loan ends.",
        "zh": "贷款到期时车龄将超过{max_age}年。",
    },
    "balloon_above_max": {
        "en": "The final balloon payment may be at most {max}% of the price.",
        "zh": "尾款比例不得超过车价的{max}%。",
    },
    # Scorecard factors: points short of the best band.
    "payment_to_income_high": {
        "en": "The monthly payment is a large share of your income ({pti}%).",
        "zh": "月供占收入比例较高（{pti}%）。",
    },
    "debt_to_income_high": {
        "en": "Your total monthly debt payments are a large share of your income ({dti}%).",
        "zh": "总负债月还款占收入比例较高（{dti}%）。",
    },
    "down_payment_low": {
        "en": "A larger down payment would help (now {share}% of the price).",
        "zh": "提高首付比例会有帮助（目前为车价的{share}%）。",
    },
    "employment_type": {
        "en": "Your type of employment scores lower than a salaried job.",
        "zh": "您的工作类型评分低于在职员工。",
    },
    "employment_short": {
        "en": "You have been in your current job for a short time ({months} months).",
        "zh": "您在现单位工作时间较短（{months}个月）。",
    },
    "credit_history_late": {
        "en": "Late payments in your credit history lower the score.",
        "zh": "信用记录中的逾期还款会降低评分。",
    },
    "credit_history_default": {
        "en": "A default in your credit history lowers the score.",
        "zh": "信用记录中的违约会降低评分。",
    },
    "vehicle_used": {
        "en": "Loans for used cars score a little lower than for new cars.",
        "zh": "二手车贷款评分略低于新车。",
    },
    # Notes that are not reasons against the applicant.
    "rate_floating": {
        "en": "The rate floats with the LPR (now {lpr}%); payments may change at repricing.",
        "zh": "利率随LPR（目前{lpr}%）浮动，重定价时月供可能变化。",
    },
    "subsidy_estimate": {
        "en": "The car-loan interest subsidy could save you about ¥{saving}.",
        "zh": "汽车消费贷款财政贴息预计可为您节省约{saving}元。",
    },
}


# The same reasons as a manager reads them on a lead card: about the buyer, not to them.
ABOUT_BUYER: dict[str, dict[str, str]] = {
    "age_below_minimum": {
        "en": "Younger than the minimum age of {min_age}.",
        "zh": "未满{min_age}周岁。",
    },
    "age_above_maximum_at_end": {
        "en": "Would be over {max_age} when the loan ends; a shorter term may work.",
        "zh": "贷款到期时年龄将超过{max_age}岁，可缩短期限。",
    },
    "credit_default": {
        "en": "Has a current default on another loan.",
        "zh": "其他贷款目前有逾期未还。",
    },
    "income_below_minimum": {
        "en": "Income is below the minimum of ¥{min_income} a month.",
        "zh": "月收入低于最低要求{min_income}元。",
    },
    "loan_below_minimum": {
        "en": "The loan is below our minimum of ¥{min_loan}.",
        "zh": "贷款金额低于最低额度{min_loan}元。",
    },
    "ltv_above_cap": {
        "en": "The loan is {ltv}% of the price (at most {cap}%): needs at least ¥{min_down} down.",
        "zh": "贷款占车价{ltv}%（上限{cap}%），首付至少需{min_down}元。",
    },
    "pti_above_cap": {
        "en": "The monthly payment is {pti}% of income (at most {cap}%).",
        "zh": "月供收入比{pti}%（上限{cap}%）。",
    },
    "dti_above_cap": {
        "en": "All monthly debt payments are {dti}% of income (at most {cap}%).",
        "zh": "负债收入比{dti}%（上限{cap}%）。",
    },
    "term_not_offered": {
        "en": "A {term}-month term is not offered for this car (offered: {terms}).",
        "zh": "该车不提供{term}期贷款（可选：{terms}）。",
    },
    "vehicle_too_old_at_end": {
        "en": "The car would be over {max_age} years old when the loan ends.",
        "zh": "贷款到期时车龄将超过{max_age}年。",
    },
    "balloon_above_max": {
        "en": "The balloon is above the maximum of {max}% of the price.",
        "zh": "尾款比例超过车价的{max}%上限。",
    },
    "payment_to_income_high": {
        "en": "The monthly payment is a large share of income ({pti}%).",
        "zh": "月供占收入比例较高（{pti}%）。",
    },
    "debt_to_income_high": {
        "en": "Total monthly debt payments are a large share of income ({dti}%).",
        "zh": "总负债月还款占收入比例较高（{dti}%）。",
    },
    "down_payment_low": {
        "en": "The down payment is only {share}% of the price.",
        "zh": "首付仅占车价的{share}%。",
    },
    "employment_type": {
        "en": "The type of employment scores lower than a salaried job.",
        "zh": "工作类型评分低于在职员工。",
    },
    "employment_short": {
        "en": "Only {months} months in the current job.",
        "zh": "现单位工作仅{months}个月。",
    },
    "credit_history_late": {
        "en": "Late payments in the credit history.",
        "zh": "信用记录有逾期。",
    },
    "credit_history_default": {
        "en": "A default in the credit history.",
        "zh": "信用记录有违约。",
    },
    "vehicle_used": {
        "en": "A used car (scores a little lower than a new one).",
        "zh": "二手车（评分略低于新车）。",
    },
}


def reason_text(
    code: str, locale: Locale = "en", *, about_buyer: bool = False, **params: object
) -> str:
    """The plain-language text of a reason code (unknown codes come back as the code):
    to the buyer, or (`about_buyer`) about them, for a manager."""
    texts = (ABOUT_BUYER.get(code) if about_buyer else None) or REASON_TEXTS.get(code)
    if texts is None:
        return code
    template = texts.get(locale) or texts["en"]
    try:
        return template.format(**{name: _plain(value) for name, value in params.items()})
    except (KeyError, IndexError):
        return template


def _plain(value: object) -> object:
    """A number as people write it in a sentence: 30.00 -> 30, 60000.00 -> 60,000,
    14.30 -> 14.3 (never rounded); anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return value
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return value
    if not number.is_finite():
        return value
    if number == number.to_integral_value():
        return f"{number:,.0f}"
    return f"{number.normalize():,f}"
