"""Telegram's HTML parse mode: its tag set, its four named entities, its error texts.

`parse_html` turns an HTML message into plain text plus message entities (offsets in UTF-16
code units, as Telegram counts them) or raises `bad_request("can't parse entities: ...")`
with the byte offset Telegram would report.
"""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.errors import ApiError, bad_request

ENTITY_TYPE_BY_TAG = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_TAG_NAME = re.compile(r"[a-zA-Z0-9-]*")
_TEXT_RUN = re.compile(r"[^&<]+")  # plain text up to the next entity or tag
_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")
_ATTRIBUTE = re.compile(r"\s*([a-zA-Z0-9_-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?", re.ASCII)


def utf16_length(text: str) -> int:
    # ASCII (most of a message) is one code unit a character; skip the encoding for it.
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _parse_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, index: int) -> tuple[str, int]:
    """The character an `&...;` at `index` stands for and the index after it."""
    match = _ENTITY.match(text, index)
    if match is None:  # a bare ampersand stays text, as in Telegram
        return "&", index + 1
    name = match.group(1)
    if name.startswith("#"):
        digits = name[1:]
        code = int(digits[1:], 16) if digits[:1] in ("x", "X") else int(digits)
        if not 0 < code <= 0x10FFFF:
            raise _parse_error(
                f"Invalid character code {code} at byte offset {_byte_offset(text, index)}"
            )
        return chr(code), match.end()
    if name not in NAMED_ENTITIES:
        raise _parse_error(
            f'Unsupported HTML entity "&{name};" at byte offset {_byte_offset(text, index)}'
        )
    return NAMED_ENTITIES[name], match.end()


def _decode_value(raw: str) -> str:
    if raw[:1] in ("'", '"'):
        raw = raw[1:-1]
    decoded: list[str] = []
    i = 0
    while (ampersand := raw.find("&", i)) >= 0:
        decoded.append(raw[i:ampersand])
        char, i = _decode_entity(raw, ampersand)
        decoded.append(char)
    decoded.append(raw[i:])
    return "".join(decoded)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities of an HTML-formatted message, or Telegram's parse error.

    One pass over the text: runs of plain text are taken whole (one regex match, one
    length count each); byte offsets are only counted for an error message.
    """
    plain: list[str] = []
    position = 0  # in UTF-16 code units of the plain text so far
    open_tags: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    end = len(text)
    while i < end:
        char = text[i]
        if char == "&":
            decoded, i = _decode_entity(text, i)
            plain.append(decoded)
            position += 1 if decoded <= "\uffff" else 2  # one character, maybe astral
            continue
        if char != "<":
            run = _TEXT_RUN.match(text, i)
            assert run is not None
            chunk = run.group(0)
            plain.append(chunk)
            position += len(chunk) if chunk.isascii() else utf16_length(chunk)
            i = run.end()
            continue
        tag_start = i
        if text.startswith("</", i):
            name_match = _TAG_NAME.match(text, i + 2)
            assert name_match is not None
            name = name_match.group(0).lower()
            close = text.find(">", name_match.end())
            if close < 0 or text[name_match.end() : close].strip():
                raise _parse_error(
                    f"Unclosed end tag at byte offset {_byte_offset(text, tag_start)}"
                )
            if not open_tags:
                raise _parse_error(
                    f"Unexpected end tag at byte offset {_byte_offset(text, tag_start)}"
                )
            open_name, start, attributes = open_tags.pop()
            if name != open_name:
                raise _parse_error(
                    f"Unmatched end tag at byte offset {_byte_offset(text, tag_start)}, "
                    f'expected "</{open_name}>", found "</{name}>"'
                )
            entity = _entity_for(open_name, attributes, start, position - start)
            if entity is not None:
                entities.append(entity)
            i = close + 1
            continue
        name_match = _TAG_NAME.match(text, i + 1)
        assert name_match is not None
        name = name_match.group(0).lower()
        if name not in ENTITY_TYPE_BY_TAG:
            raise _parse_error(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, tag_start)}'
            )
        attributes, i = _read_attributes(text, name_match.end(), tag_start)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise _parse_error(
                f'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(text, tag_start)}"
            )
        open_tags.append((name, position, attributes))
    if open_tags:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{open_tags[-1][0]}"')
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(plain), entities


def _read_attributes(text: str, index: int, tag_start: int) -> tuple[dict[str, str], int]:
    attributes: dict[str, str] = {}
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            raise _parse_error(f"Unclosed start tag at byte offset {_byte_offset(text, tag_start)}")
        if text[index] == ">":
            return attributes, index + 1
        match = _ATTRIBUTE.match(text, index)
        if match is None or match.end() == index:
            raise _parse_error(
                f"Expected equal sign in declaration of an attribute of the tag at byte offset "
                f"{_byte_offset(text, tag_start)}"
            )
        attributes[match.group(1).lower()] = _decode_value(match.group(2) or "")
        index = match.end()


def _entity_for(
    tag: str, attributes: dict[str, str], offset: int, length: int
) -> dict[str, Any] | None:
    if length == 0:
        return None
    entity: dict[str, Any] = {"type": ENTITY_TYPE_BY_TAG[tag], "offset": offset, "length": length}
    if tag == "a":
        href = attributes.get("href", "")
        if not href:
            return None
        entity["url"] = href
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attributes.get("emoji-id", "")
    elif tag == "blockquote" and "expandable" in attributes:
        entity["type"] = "expandable_blockquote"
    return entity
