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
        "en": "You could be over {max_age} when the loan ends.",
        "zh": "贷款到期时您的年龄可能超过{max_age}岁。",
    },
    "credit_default": {
        "en": "A current default on another loan must be settled first.",
        "zh": "您目前有逾期未还的贷款，需先结清。",
    },
    "income_none": {
        "en": "You told us you have no monthly income; a loan needs at least ¥{min_income} "
        "a month to be repaid from.",
        "zh": "您填写的月收入为零；申请贷款需要每月至少¥{min_income}的收入用于还款。",
    },
    "income_below_minimum": {
        "en": "Monthly income must be at least ¥{min_income}.",
        "zh": "月收入需不低于¥{min_income}。",
    },
    "loan_below_minimum": {
        "en": "The loan would be below our minimum of ¥{min_loan}.",
        "zh": "贷款金额低于最低额度¥{min_loan}。",
    },
    "ltv_above_cap": {
        "en": "The loan would be {ltv}% of the price; at most {cap}% is allowed, "
        "so the down payment must be at least ¥{min_down}.",
        "zh": "贷款占车价{ltv}%，上限为{cap}%，首付至少需¥{min_down}。",
    },
    "pti_above_cap": {
        "en": "The monthly payment of ¥{payment} would be {ratio}% of your income; "
        "at most {cap}% is allowed.",
        "zh": "月供¥{payment}，占收入的{ratio}%，上限为{cap}%。",
    },
    "pti_above_cap_stress": {
        "en": "Our stress test checks the payment at a rate {points} points higher "
        "({stress_rate}% a year): it would be ¥{payment}, {ratio}% of your income, "
        "and at most {cap}% is allowed.",
        "zh": "我们的压力测试按高出{points}个百分点的利率（年利率{stress_rate}%）测算："
        "月供将为¥{payment}，占收入的{ratio}%，超过{cap}%的上限。",
    },
    "dti_above_cap": {
        "en": "The monthly payment of ¥{payment} and your other debts of ¥{debt} would be "
        "{ratio}% of your income; at most {cap}% is allowed.",
        "zh": "月供¥{payment}加上其他负债月还款¥{debt}，占收入的{ratio}%，上限为{cap}%。",
    },
    "dti_above_cap_stress": {
        "en": "Our stress test checks the payment at a rate {points} points higher "
        "({stress_rate}% a year): ¥{payment} plus your other debts of ¥{debt} would be "
        "{ratio}% of your income, and at most {cap}% is allowed.",
        "zh": "我们的压力测试按高出{points}个百分点的利率（年利率{stress_rate}%）测算："
        "月供¥{payment}加上其他负债月还款¥{debt}，占收入的{ratio}%，超过{cap}%的上限。",
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
    "balloon_above_forecast": {
        "en": "The final balloon payment of ¥{balloon} is more than the car is likely to be "
        "worth after {term} months (about ¥{value}); at most ¥{cover} can be left to the end.",
        "zh": "尾款¥{balloon}高于车辆{term}个月后的预估价值（约¥{value}），尾款最多为¥{cover}。",
    },
    "negative_equity_long": {
        "en": "For more than {max} months you would owe more than the car is likely to be worth.",
        "zh": "有超过{max}个月的时间，您的贷款余额将高于车辆的预估价值。",
    },
    # Scorecard factors: points short of the best band.
    "payment_to_income_high": {
        "en": "The monthly payment of ¥{payment} is {ratio}% of your income; "
        "up to {best}% scores best.",
        "zh": "月供¥{payment}，占收入的{ratio}%；不超过{best}%评分最高。",
    },
    "payment_to_income_high_stress": {
        "en": "Our stress test checks the payment at a rate {points} points higher "
        "({stress_rate}% a year): ¥{payment}, {ratio}% of your income; up to {best}% scores best.",
        "zh": "我们的压力测试按高出{points}个百分点的利率（年利率{stress_rate}%）测算："
        "月供¥{payment}，占收入的{ratio}%；不超过{best}%评分最高。",
    },
    "debt_to_income_high": {
        "en": "The monthly payment of ¥{payment} and your other debts of ¥{debt} are "
        "{ratio}% of your income; up to {best}% scores best.",
        "zh": "月供¥{payment}加上其他负债月还款¥{debt}，占收入的{ratio}%；不超过{best}%评分最高。",
    },
    "debt_to_income_high_stress": {
        "en": "Our stress test checks the payment at a rate {points} points higher "
        "({stress_rate}% a year): ¥{payment} plus your other debts of ¥{debt} are {ratio}% "
        "of your income; up to {best}% scores best.",
        "zh": "我们的压力测试按高出{points}个百分点的利率（年利率{stress_rate}%）测算："
        "月供¥{payment}加上其他负债月还款¥{debt}，占收入的{ratio}%；不超过{best}%评分最高。",
    },
    "down_payment_low": {
        "en": "A larger down payment would help (now {share}% of the price).",
        "zh": "提高首付比例会有帮助（目前为车价的{share}%）。",
    },
    "employment_type": {
        "en": "Your type of employment scores lower than a job on a regular salary.",
        "zh": "您的工作类型评分低于在职员工。",
    },
    "employment_short": {
        "en": "You have been in your current job for {months} months; {best} months or more "
        "scores best.",
        "zh": "您在现单位工作{months}个月；满{best}个月评分最高。",
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
    "rate_floating_january_1": {
        "en": "The rate floats: the 1-year LPR (now {lpr}%) plus {spread} points, reset every "
        "1 January. Your payment will change when the LPR does.",
        "zh": "本贷款为浮动利率：1年期LPR（目前{lpr}%）加{spread}个百分点，每年1月1日重新定价。"
        "LPR变动时，您的月供也会随之变化。",
    },
    "rate_floating_anniversary": {
        "en": "The rate floats: the 1-year LPR (now {lpr}%) plus {spread} points, reset on "
        "each anniversary of the loan. Your payment will change when the LPR does.",
        "zh": "本贷款为浮动利率：1年期LPR（目前{lpr}%）加{spread}个百分点，每个贷款周年日重新定价。"
        "LPR变动时，您的月供也会随之变化。",
    },
    "subsidy_estimate": {
        "en": "The car-loan interest subsidy could pay about ¥{saving} of your interest: what "
        "accrues until {until}, the end of your last whole month of payments inside the "
        "programme (it runs until {ends}).",
        "zh": "汽车消费贷款财政贴息预计可为您承担约¥{saving}的利息，即截至{until}"
        "（贴息期内最后一个完整还款月的末日）产生的利息；贴息政策执行至{ends}。",
    },
}


# The same reasons as a manager reads them on a lead card: about the buyer, not to them.
ABOUT_BUYER: dict[str, dict[str, str]] = {
    "age_below_minimum": {
        "en": "Younger than the minimum age of {min_age}.",
        "zh": "未满{min_age}周岁。",
    },
    "age_above_maximum_at_end": {
        "en": "Could be over {max_age} when the loan ends.",
        "zh": "贷款到期时年龄可能超过{max_age}岁。",
    },
    "credit_default": {
        "en": "Has a current default on another loan.",
        "zh": "其他贷款目前有逾期未还。",
    },
    "income_below_minimum": {
        "en": "Income is below the minimum of ¥{min_income} a month.",
        "zh": "月收入低于最低要求¥{min_income}。",
    },
    "loan_below_minimum": {
        "en": "The loan is below our minimum of ¥{min_loan}.",
        "zh": "贷款金额低于最低额度¥{min_loan}。",
    },
    "ltv_above_cap": {
        "en": "The loan is {ltv}% of the price (at most {cap}%): needs at least ¥{min_down} down.",
        "zh": "贷款占车价{ltv}%（上限{cap}%），首付至少需¥{min_down}。",
    },
    "income_none": {
        "en": "Has no monthly income (at least ¥{min_income} is needed).",
        "zh": "无月收入（至少需{min_income}元）。",
    },
    "pti_above_cap": {
        "en": "The monthly payment of ¥{payment} is {ratio}% of income (at most {cap}%).",
        "zh": "月供{payment}元，月供收入比{ratio}%（上限{cap}%）。",
    },
    "pti_above_cap_stress": {
        "en": "At the stress rate ({stress_rate}%) the payment of ¥{payment} is {ratio}% "
        "of income (at most {cap}%).",
        "zh": "按压力测试利率（{stress_rate}%）月供{payment}元，月供收入比{ratio}%（上限{cap}%）。",
    },
    "dti_above_cap": {
        "en": "The payment of ¥{payment} plus other debts of ¥{debt} is {ratio}% of income "
        "(at most {cap}%).",
        "zh": "月供{payment}元加其他负债{debt}元，负债收入比{ratio}%（上限{cap}%）。",
    },
    "dti_above_cap_stress": {
        "en": "At the stress rate ({stress_rate}%) the payment of ¥{payment} plus other debts "
        "of ¥{debt} is {ratio}% of income (at most {cap}%).",
        "zh": "按压力测试利率（{stress_rate}%）月供{payment}元加其他负债{debt}元，"
        "负债收入比{ratio}%（上限{cap}%）。",
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
    "balloon_above_forecast": {
        "en": "The balloon of ¥{balloon} is above the car's forecast value after {term} months "
        "(about ¥{value}); at most ¥{cover} can be left to the end.",
        "zh": "尾款{balloon}元高于车辆{term}个月后的预估价值（约{value}元），尾款最多{cover}元。",
    },
    "negative_equity_long": {
        "en": "Would owe more than the car is likely to be worth for more than {max} months.",
        "zh": "贷款余额高于车辆预估价值的时间将超过{max}个月。",
    },
    "payment_to_income_high": {
        "en": "The monthly payment is a large share of income ({ratio}%).",
        "zh": "月供占收入比例较高（{ratio}%）。",
    },
    "payment_to_income_high_stress": {
        "en": "At the stress rate ({stress_rate}%) the payment of ¥{payment} is a large share "
        "of income ({ratio}%).",
        "zh": "按压力测试利率（{stress_rate}%）月供{payment}元，占收入比例较高（{ratio}%）。",
    },
    "debt_to_income_high": {
        "en": "Total monthly debt payments are a large share of income ({ratio}%).",
        "zh": "总负债月还款占收入比例较高（{ratio}%）。",
    },
    "debt_to_income_high_stress": {
        "en": "At the stress rate ({stress_rate}%) all monthly debt payments are a large share "
        "of income ({ratio}%).",
        "zh": "按压力测试利率（{stress_rate}%）总负债月还款占收入比例较高（{ratio}%）。",
    },
    "down_payment_low": {
        "en": "The down payment is only {share}% of the price.",
        "zh": "首付仅占车价的{share}%。",
    },
    "employment_type": {
        "en": "The type of employment scores lower than a job on a regular salary.",
        "zh": "工作类型评分低于在职员工。",
    },
    "employment_short": {
        "en": "{months} months in the current job ({best} or more scores best).",
        "zh": "现单位工作{months}个月（满{best}个月评分最高）。",
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
    # A placeholder the parameters lack raises (KeyError): a raw "{ratio}" must never reach
    # a reader, and tests render every code with the parameters the engine produces.
    return template.format(**{name: _plain(value) for name, value in params.items()})


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
