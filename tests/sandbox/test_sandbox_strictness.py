"""Each rule where Telegram is strict, with its error as PTB raises it."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)
from telegram.error import BadRequest, EndPointNotFound

from bot.sandbox.core import SandboxCore
from bot.sandbox.request import SandboxRequest

LI = 1001


@pytest.fixture
async def bot_and_core():
    core = SandboxCore()
    core.user(id=LI, name="Li", started=True)
    async with Bot("123:TEST", request=SandboxRequest(core)) as bot:
        yield bot, core


def keyboard(*rows: list[str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=text) for text in row] for row in rows]
    )


async def test_text_length_is_counted_after_entity_parsing(bot_and_core):
    bot, _ = bot_and_core
    exactly = "<b>" + "x" * 4096 + "</b>"
    assert len((await bot.send_message(LI, exactly, parse_mode="HTML")).text) == 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(LI, "x" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(LI, "<b> </b>", parse_mode="HTML")


async def test_caption_is_at_most_1024(bot_and_core):
    bot, _ = bot_and_core
    await bot.send_photo(LI, b"img", caption="c" * 1024)
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(LI, b"img", caption="c" * 1025)


@pytest.mark.parametrize("data", ["", "x" * 65, "车" * 22])
async def test_callback_data_is_1_to_64_bytes(bot_and_core, data):
    bot, _ = bot_and_core
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data=data)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(LI, "pick", reply_markup=markup)


async def test_at_most_8_buttons_a_row_and_100_in_all(bot_and_core):
    bot, _ = bot_and_core
    await bot.send_message(
        LI,
        "ok",
        reply_markup=keyboard(
            *[[f"{r}-{c}" for c in range(8)] for r in range(12)], ["a", "b", "c", "d"]
        ),
    )
    with pytest.raises(BadRequest, match="Buttons_too_much"):
        await bot.send_message(LI, "row", reply_markup=keyboard([str(c) for c in range(9)]))
    with pytest.raises(BadRequest, match="Buttons_too_much"):
        await bot.send_message(
            LI, "all", reply_markup=keyboard(*[[f"{r}-{c}" for c in range(8)] for r in range(13)])
        )


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("caf&eacute;", 'Unsupported HTML entity "&eacute;"'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<br/>", 'Unsupported start tag "br"'),
    ],
)
async def test_html_accepts_only_telegrams_tags_and_entities(bot_and_core, html, reason):
    bot, _ = bot_and_core
    with pytest.raises(BadRequest) as raised:
        await bot.send_message(LI, html, parse_mode="HTML")
    assert raised.value.message.lower().startswith(f"can't parse entities: {reason}".lower())


async def test_html_tag_set_and_named_entities_parse(bot_and_core):
    bot, _ = bot_and_core
    text = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>"
        '<del>d</del><span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler>'
        '<a href="https://x.cn/?a=1&amp;b=2">l</a><code>c</code><pre>r</pre>'
        "<blockquote>q</blockquote> &lt;&gt;&amp;&quot;&#20013;&#x6587; 车"
    )
    sent = await bot.send_message(LI, text, parse_mode="HTML")
    assert sent.text.endswith(' <>&"中文 车')
    assert {e.type for e in sent.entities} >= {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "text_link",
        "code",
        "pre",
        "blockquote",
    }
    assert sent.entities[11].url == "https://x.cn/?a=1&b=2"


async def test_editing_to_identical_content_is_not_modified(bot_and_core):
    bot, _ = bot_and_core
    sent = await bot.send_message(
        LI, "<b>Price</b>", parse_mode="HTML", reply_markup=keyboard(["OK"])
    )
    with pytest.raises(
        BadRequest, match="(?i)message is not modified: specified new message content"
    ):
        await bot.edit_message_text(
            "<b>Price</b>", LI, sent.message_id, parse_mode="HTML", reply_markup=keyboard(["OK"])
        )
    with pytest.raises(BadRequest, match="(?i)not modified"):
        await bot.edit_message_reply_markup(LI, sent.message_id, reply_markup=keyboard(["OK"]))
    # the same text without the keyboard is a change: the keyboard goes
    edited = await bot.edit_message_text("<b>Price</b>", LI, sent.message_id, parse_mode="HTML")
    assert edited.reply_markup is None and edited.edit_date is not None


async def test_answering_an_unknown_or_answered_query_fails(bot_and_core):
    bot, core = bot_and_core
    sent = await bot.send_message(LI, "pick", reply_markup=keyboard(["A"]))
    query_id = core.user(LI, "Li").press("A")
    assert await bot.answer_callback_query(query_id, text="ok")
    for unusable in (query_id, "999"):
        with pytest.raises(
            BadRequest,
            match="(?i)query is too old and response timeout expired or query id is invalid",
        ):
            await bot.answer_callback_query(unusable)
    assert sent.message_id == 1


async def test_reply_to_a_missing_message_fails(bot_and_core):
    bot, _ = bot_and_core
    sent = await bot.send_message(LI, "one")
    reply = await bot.send_message(LI, "two", reply_parameters=ReplyParameters(sent.message_id))
    assert reply.reply_to_message.text == "one"
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(LI, "x", reply_parameters=ReplyParameters(99))
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(LI, "x", reply_to_message_id=99)
    ok = await bot.send_message(
        LI, "x", reply_parameters=ReplyParameters(99, allow_sending_without_reply=True)
    )
    assert ok.reply_to_message is None


async def test_unknown_chat_unknown_method_and_deleted_messages(bot_and_core):
    bot, _ = bot_and_core
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(2002, "hi")  # the user never started the bot
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendHologram", {"chat_id": LI})
    sent = await bot.send_message(LI, "bye")
    assert await bot.delete_message(LI, sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(LI, sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("again", LI, sent.message_id)


async def test_forward_copy_members_and_commands(bot_and_core):
    bot, core = bot_and_core
    li = core.user(LI, "Li")
    li.group.send("hello managers")
    forwarded = await bot.forward_message(LI, core.group.id, 1)
    assert forwarded.text == "hello managers" and forwarded.forward_origin.sender_user.id == LI
    copied = await bot.copy_message(core.group.id, LI, forwarded.message_id)
    assert core.find_message(core.group.id, copied.message_id).text == "hello managers"
    assert (await bot.get_chat_member(core.group.id, LI)).status == "member"
    assert (await bot.get_chat_member(core.group.id, bot.id)).status == "administrator"
    assert await bot.send_chat_action(LI, "typing")
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([("Start!", "go")])
    await bot.set_my_commands([("start", "Go")], language_code="zh")
    assert [c.command for c in await bot.get_my_commands(language_code="zh")] == ["start"]
    assert await bot.get_my_commands() == ()


def test_html_offsets_count_utf16_units_and_errors_count_utf8_bytes():
    from bot.sandbox.errors import ApiError
    from bot.sandbox.html_parsing import parse_html

    # 车 is one UTF-16 unit, 🚗 two (astral), also when it comes from a character reference.
    text, entities = parse_html("车🚗 <b>价&#x1F697;</b> <i>x</i>")
    assert text == "车🚗 价🚗 x"
    assert entities == [
        {"type": "bold", "offset": 4, "length": 3},
        {"type": "italic", "offset": 8, "length": 1},
    ]
    # Error positions are UTF-8 byte offsets: 车 3 bytes, 🚗 4, the space 1.
    with pytest.raises(ApiError, match='Unsupported start tag "p" at byte offset 8$'):
        parse_html("车🚗 <p>x</p>")
    with pytest.raises(ApiError, match="Unmatched end tag at byte offset 10,"):
        parse_html("价<b><i>x</b></i>")


async def test_an_edit_leaves_earlier_records_and_copies_as_they_were(bot_and_core):
    bot, core = bot_and_core
    sent = await bot.send_message(
        LI, "<b>Price</b>", parse_mode="HTML", reply_markup=keyboard(["OK"])
    )
    status, answer = await core.call(
        "editMessageText",
        {"chat_id": LI, "message_id": sent.message_id, "text": "<i>Term</i>", "parse_mode": "HTML"},
    )
    assert status == 200 and answer["result"]["text"] == "Term"
    message = core.find_message(LI, sent.message_id)
    sent_event, edit_event = core.events[-2], core.events[-1]
    # What the chat showed before the edit is still what the send event and history hold.
    for before in (sent_event.message, message.versions[0]):
        assert before["text"] == "Price"
        assert before["entities"] == [{"type": "bold", "offset": 0, "length": 5}]
        assert before["reply_markup"]["inline_keyboard"][0][0]["text"] == "OK"
        assert "edit_date" not in before
    assert edit_event.message["entities"] == [{"type": "italic", "offset": 0, "length": 4}]
    assert "reply_markup" not in message.data
    # A snapshot is the caller's own: changing it deep down changes nothing stored.
    copy = message.snapshot()
    copy["entities"][0]["type"] = "bold"
    copy["from"]["first_name"] = "Someone"
    assert message.data["entities"][0]["type"] == "italic"
    assert message.data["from"]["first_name"] == core.bot_name
