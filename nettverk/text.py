"""Small text helpers shared by modules."""

import re

from markdown_it import MarkdownIt
from markupsafe import Markup

_NORWEGIAN = str.maketrans(
    {"æ": "ae", "ø": "o", "å": "a", "á": "a", "ï": "i", "č": "c", "đ": "d", "ŋ": "n", "š": "s", "ŧ": "t", "ž": "z"}
)


def slugify(text: str) -> str:
    """'Fosen kompetansebase' -> 'fosen-kompetansebase'; Norwegian and Sami letters folded to ASCII."""
    text = text.strip().lower().translate(_NORWEGIAN)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "x"


# Norwegian alphabet order: … x y z æ ø å (code-point order would put Å before Ø).
_SORT = str.maketrans({"æ": "{", "ø": "|", "å": "}", "ä": "{", "ö": "|", "ü": "y"})


def norwegian_key(text: str) -> str:
    return (text or "").lower().translate(_SORT)


_MARKDOWN = MarkdownIt("js-default", {"html": False})


def render_markdown(text: str) -> Markup:
    """Markdown to HTML that is safe to show: raw HTML in the text is escaped, not passed through,
    and markdown-it refuses javascript:, vbscript: and data: links."""
    return Markup(_MARKDOWN.render(text or ""))  # noqa: S704 - markdown-it output with html disabled


# Characters no person types into a form field, refused in every text field of every form and of the API
# (nettverk.forms.Form, nettverk.api): C0 and C1 control characters (ESC sequences; a CR or LF that would
# split a mail subject or an iCalendar line), lone surrogates (a JSON string can carry them; no database
# stores them) and U+FFFD, which is what invalid UTF-8 in a request becomes. On one line, Unicode's own line
# breaks (U+2028, U+2029) are refused too; multi-line text may hold line breaks (\n, \r\n) and tabs.
LINE_BREAK_MESSAGE = "Skriv teksten på én linje, uten linjeskift."
CHARACTER_MESSAGE = (
    "Teksten inneholder tegn som ikke er tillatt (kontrolltegn eller ugyldig tegnkoding). "
    "Skriv den inn på nytt i stedet for å lime den inn."
)
_LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")  # every break str.splitlines() knows
_NOT_ALLOWED = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffd]")
_NOT_ALLOWED_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffd]")  # all but \t and \n


def character_problem(text: str, multiline: bool = False) -> str | None:
    """The Norwegian message for characters `text` may not hold, or None when it is clean."""
    if multiline:
        return CHARACTER_MESSAGE if _NOT_ALLOWED_IN_LINES.search(text.replace("\r\n", "\n")) else None
    if _LINE_BREAKS.search(text):
        return LINE_BREAK_MESSAGE
    return CHARACTER_MESSAGE if _NOT_ALLOWED.search(text) else None
