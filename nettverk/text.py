"""Small text helpers shared by modules."""

import re

from markdown_it import MarkdownIt
from markupsafe import Markup

_NORWEGIAN = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "á": "a", "ï": "i", "č": "c", "đ": "d", "ŋ": "n",
                            "š": "s", "ŧ": "t", "ž": "z"})


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
