"""What the window terminal says, as text for speech engines and as clip sequences for
pre-recorded voices.

Clips are WAV files named `<clip>.wav` in one directory. A call announcement is built from
parts and reads ticket and window digit by digit, as hall callers do:
请A012号到3号窗口办理 -> qing letter_a digit_0 digit_1 digit_2 hao dao digit_3 hao_chuangkou banli.
Greetings name the clerk in text; a recorded voice cannot, so their clips leave the name out.
"""

from __future__ import annotations

import re
import string

RATE_PROMPT = "请对我的服务进行评价"
THANKS = "谢谢您的评价"
PAUSED = "本窗口暂停服务，请稍候"
RESUMED = "本窗口恢复服务"

_LOGIN = "{name}，您好，祝您工作愉快"
_LOGOUT = "{name}，您辛苦了，再见"
_CALL = "请{ticket}号到{window}号窗口办理"

TICKET = re.compile(r"[A-Z]?[0-9]{1,4}")
WINDOW = re.compile(r"[1-9][0-9]{0,2}")

# One clip per fixed phrase, then the parts a call announcement is built from.
PHRASE_CLIPS = {
    RATE_PROMPT: "rate_prompt",
    THANKS: "thanks",
    PAUSED: "paused",
    RESUMED: "resumed",
}
GREETING_CLIPS = ("login_greeting", "logout_farewell")  # 您好，祝您工作愉快 / 您辛苦了，再见
CALL_PART_CLIPS = ("qing", "hao", "dao", "hao_chuangkou", "banli")  # 请 号 到 号窗口 办理
LETTER_CLIPS = tuple(f"letter_{c}" for c in string.ascii_lowercase)
DIGIT_CLIPS = tuple(f"digit_{d}" for d in string.digits)
ALL_CLIPS = (
    tuple(PHRASE_CLIPS.values()) + GREETING_CLIPS + CALL_PART_CLIPS + LETTER_CLIPS + DIGIT_CLIPS
)


def login_greeting(name: str) -> str:
    """Said when a clerk's badge starts the shift: "张伟，您好，祝您工作愉快"."""
    return _LOGIN.format(name=_clerk_name(name))


def logout_farewell(name: str) -> str:
    """Said when the badge ends the shift: "张伟，您辛苦了，再见"."""
    return _LOGOUT.format(name=_clerk_name(name))


def call_announcement(ticket: str, window_number: int | str) -> str:
    """ "请A012号到3号窗口办理" for ticket A012 and window 3."""
    return _CALL.format(ticket=_ticket(ticket), window=_window(window_number))


def call_clips(ticket: str, window_number: int | str) -> list[str]:
    """The clips that say `call_announcement(ticket, window_number)`."""
    head = ["qing", *_spell(_ticket(ticket)), "hao", "dao"]
    return head + [*_spell(_window(window_number)), "hao_chuangkou", "banli"]


def clips_for(text: str) -> list[str]:
    """The clip sequence for a text made by this module; ValueError for any other text."""
    if text in PHRASE_CLIPS:
        return [PHRASE_CLIPS[text]]
    if call := re.fullmatch(_CALL.format(ticket="(.+)", window="(.+)"), text):
        return call_clips(call[1], call[2])
    for template, clip in zip((_LOGIN, _LOGOUT), GREETING_CLIPS, strict=True):
        if re.fullmatch(re.escape(template).replace(r"\{name\}", ".+"), text):
            return [clip]
    raise ValueError(f"no recorded clips say {text!r}: only the phrases in phrases.py")


def _spell(chars: str) -> list[str]:
    return [f"digit_{c}" if c.isdigit() else f"letter_{c.lower()}" for c in chars]


def _ticket(ticket: str) -> str:
    if not TICKET.fullmatch(ticket):
        raise ValueError(f"ticket {ticket!r} is not a letter and 1-4 digits, like A012")
    return ticket


def _window(window_number: int | str) -> str:
    window = str(window_number)
    if not WINDOW.fullmatch(window):
        raise ValueError(f"window number {window_number!r} is not 1-999")
    return window


def _clerk_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValueError("a greeting needs the clerk's name")
    return name
