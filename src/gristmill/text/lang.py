"""One validated language-code type: ISO 639-1 where it exists, else the fastText lid.176 code.

>>> Lang.parse("zho"), Lang.parse("EN"), Lang.parse("cmn")
('zh', 'en', 'zh')
>>> Lang.parse("english")
Traceback (most recent call last):
...
ValueError: unknown language code 'english' (use ISO 639-1 codes such as en, zh, de; 'english' is not one)
"""

from __future__ import annotations

# The 176 labels of fastText's lid.176 model (ISO 639-1 where one exists, otherwise 639-2/3 or Wikipedia codes).
LID176 = frozenset(["af", "als", "am", "an", "ar", "arz", "as", "ast", "av", "az", "azb", "ba", "bar", "bcl", "be", "bg", "bh", "bn", "bo", "bpy", "br", "bs", "bxr", "ca", "cbk", "ce", "ceb", "ckb", "co", "cs", "cv", "cy", "da", "de", "diq", "dsb", "dty", "dv", "el", "eml", "en", "eo", "es", "et", "eu", "fa", "fi", "fr", "frr", "fy", "ga", "gd", "gl", "gn", "gom", "gu", "gv", "he", "hi", "hif", "hr", "hsb", "ht", "hu", "hy", "ia", "id", "ie", "ilo", "io", "is", "it", "ja", "jbo", "jv", "ka", "kk", "km", "kn", "ko", "krc", "ku", "kv", "kw", "ky", "la", "lb", "lez", "li", "lmo", "lo", "lrc", "lt", "lv", "mai", "mg", "mhr", "min", "mk", "ml", "mn", "mr", "mrj", "ms", "mt", "mwl", "my", "myv", "mzn", "nah", "nap", "nds", "ne", "new", "nl", "nn", "no", "oc", "or", "os", "pa", "pam", "pfl", "pl", "pms", "pnb", "ps", "pt", "qu", "rm", "ro", "ru", "rue", "sa", "sah", "sc", "scn", "sco", "sd", "sh", "si", "sk", "sl", "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl", "tr", "tt", "tyv", "ug", "uk", "ur", "uz", "vec", "vep", "vi", "vls", "vo", "wa", "war", "wuu", "xal", "xmf", "yi", "yo", "yue", "zh"])

# Common ISO 639-2/3 codes and names people write, mapped to the one code we use.
ALIASES = {
    "eng": "en", "zho": "zh", "chi": "zh", "cmn": "zh", "zh-cn": "zh", "zh-tw": "zh", "zh-hans": "zh",
    "zh-hant": "zh", "zh_cn": "zh", "zh_tw": "zh", "jpn": "ja", "kor": "ko", "fra": "fr", "fre": "fr",
    "deu": "de", "ger": "de", "rus": "ru", "spa": "es", "por": "pt", "ita": "it", "ara": "ar", "nld": "nl",
    "dut": "nl", "pol": "pl", "tur": "tr", "vie": "vi", "tha": "th", "ukr": "uk", "hin": "hi", "ind": "id",
    "swe": "sv", "ces": "cs", "cze": "cs", "ell": "el", "gre": "el", "heb": "he", "fas": "fa", "per": "fa",
    "msa": "ms", "may": "ms", "fin": "fi", "dan": "da", "nob": "no", "nor": "no", "hun": "hu", "ron": "ro",
    "rum": "ro", "bul": "bg", "cat": "ca", "iw": "he", "in": "id",
}

UNKNOWN = "und"


class Lang(str):
    """A validated language code (a ``str``)."""

    __slots__ = ()

    @classmethod
    def parse(cls, value: object) -> Lang:
        if not isinstance(value, str):
            raise ValueError(f"language code must be a string, not {type(value).__name__}")
        v = value.strip().lower().replace("_", "-") if value.strip().lower() not in ALIASES else value.strip().lower()
        v = ALIASES.get(v, v)
        if v in LID176 or v == UNKNOWN:
            return cls(v)
        raise ValueError(f"unknown language code {value!r} (use ISO 639-1 codes such as en, zh, de; "
                         f"{value!r} is not one)")


def normalise_label(label: str) -> str:
    """Map a fastText ``__label__xx`` to our code."""
    code = label.removeprefix("__label__")
    return ALIASES.get(code, code)
