"""Names of the documents a pre-qualified applicant prepares, in both locales.

The policy lists document codes (`[documents] required`); the words live here, beside
the reason texts, so every channel names them the same way.
"""

from lending.reasons import Locale

DOCUMENT_TEXTS: dict[str, dict[str, str]] = {
    "id_card": {"en": "ID card", "zh": "身份证"},
    "driving_licence": {"en": "Driving licence", "zh": "驾驶证"},
    "income_proof": {"en": "Proof of income", "zh": "收入证明"},
    "bank_statements_6m": {
        "en": "Bank statements for the last six months",
        "zh": "近六个月银行流水",
    },
}


def document_text(code: str, locale: Locale = "en") -> str:
    """A document's name for people; an unknown code (a custom policy's) is shown as is."""
    texts = DOCUMENT_TEXTS.get(code)
    return texts.get(locale, texts["en"]) if texts else code
