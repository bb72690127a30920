"""Context words, English and Chinese, that make a number more or less likely to be personal data.

A detector looks at the text just before a candidate (and, for phones, just after) and takes the nearest cue:
a word of the candidate's kind (``tel``, ``电话``, ``card``, ``卡号``, ``server``, ``地址``) raises its
confidence; a word naming another kind of number (``order``, ``订单``, ``version``, ``版本``, ``ISBN``)
lowers it. ASCII words match whole words, case-insensitively; Chinese words match as substrings.

>>> rules = Cues(PHONE_WORDS, NOT_PERSONAL_WORDS)
>>> rules.before("请致电 ", 4), rules.before("订单号：", 4), rules.before("hello ", 6)
((1, '致电'), (-1, '订单'), (0, ''))
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PHONE_WORDS = (
    "tel", "tel.", "telephone", "phone", "phones", "ph", "call", "called", "calling", "fax", "mobile", "mob",
    "calls", "phoned", "dialled", "dialed", "texted", "contacted", "reached",
    "cell", "cellphone", "contact", "hotline", "helpline", "dial", "sms", "text", "whatsapp", "ring", "office",
    "direct", "home", "work", "desk", "landline", "phone number", "phone no", "my number",
    "电话", "手机", "联系", "致电", "传真", "座机", "热线", "拨打", "来电", "号码", "客服", "短信", "微信", "咨询",
)
CARD_WORDS = (
    "card", "cards", "credit", "debit", "visa", "mastercard", "amex", "american express", "discover", "jcb",
    "maestro", "unionpay", "diners", "cc", "pan", "cvv", "expiry", "exp", "pay", "paid", "payment", "charge",
    "charged", "paying", "payments", "billed", "refund", "refunded",
    "卡号", "信用卡", "银行卡", "借记卡", "储蓄卡", "银联", "卡", "付款", "支付",
)
IP_WORDS = (
    "ip", "ipv4", "ipv6", "address", "addr", "inet", "host", "hostname", "server", "gateway", "dns", "nameserver",
    "resolver", "proxy", "ping", "ssh", "connect", "connected", "connection", "client", "peer", "listen",
    "bind", "subnet", "netmask", "route", "router", "ifconfig", "nslookup", "traceroute",
    "地址", "服务器", "网关", "主机", "代理", "登录", "来自", "访问",
)
SSN_WORDS = ("ssn", "social security", "social security number", "社会安全号")
# words naming a number that is not personal: a number right after them is an id, a version, a code
NOT_PERSONAL_WORDS = (
    "order", "orders", "invoice", "receipt", "tracking", "shipment", "reference", "ref", "ref.", "serial",
    "s/n", "sn", "isbn", "issn", "doi", "oid", "part", "model", "sku", "batch", "lot", "ticket", "bug", "issue",
    "commit", "build", "version", "ver", "revision", "rev", "section", "chapter", "page",
    "pages", "rfc", "cve", "id", "transaction", "confirmation", "booking", "no.", "nr.", "item",
    "订单", "单号", "编号", "流水号", "序列号", "版本", "型号", "批号", "邮编", "工号", "学号", "页码", "章节",
)
# words after which a dotted number is a software version, not an address
VERSION_WORDS = ("version", "versions", "ver", "v", "release", "released", "build", "rev", "revision", "patch",
                 "update", "upgrade", "upgraded", "firmware", "kernel", "版本", "版", "更新", "升级", "内核")
# where a clause ends: a cue word before it speaks of something else
_CLAUSE_END = re.compile(r"\d|[.!?;](?:\s|$)|[。！？；，、]|(?<![:：])[ \t]*\n")  # a line ending in a colon labels the next
_GAP = re.compile(r"\s*(?:[:：=#]|is|to|of|号|是|为|到|号为)?\s*[:：]?\s*", re.I)
_LABEL = re.compile(r"\s?[:：]")
_AFTER_GAP = re.compile(r"[\s(（,，\-–]{0,3}")
_NEXT_NUMBER = re.compile(r"[ \t]*[:：]?[ \t]*[+(（]?\d")  # on the same line: the word introduces it


class Cues:
    """The nearest positive or negative cue word before (or after) a position."""

    def __init__(self, positive: Iterable[str], negative: Iterable[str] = ()) -> None:
        self.sign = {w.lower(): 1 for w in positive}
        self.sign.update({w.lower(): -1 for w in negative if w.lower() not in self.sign})
        words = sorted(self.sign, key=len, reverse=True)
        ascii_ = [re.escape(w) for w in words if w.isascii()]
        cjk = [re.escape(w) for w in words if not w.isascii()]
        alts = []
        if ascii_:
            alts.append(r"(?<![a-z])(?:" + "|".join(ascii_) + r")(?![a-z])")
        if cjk:
            alts.append("(?:" + "|".join(cjk) + ")")
        self._rx = re.compile("|".join(alts) or r"(?!)", re.I)

    def before(self, text: str, pos: int, window: int = 32, negative_window: int = 16) -> tuple[int, str]:
        """(+1 | -1 | 0, word) for the cue nearest before ``pos``: a positive word within ``window``
        characters, a negative one within ``negative_window``, in the same clause and after the last digit
        (a cue before another number is that number's)."""
        start = max(0, pos - window)
        found = list(self._rx.finditer(text, start, pos))
        inside = {m.end() - 1 for m in found if m.group().endswith(".")}  # the dot of "Tel." ends no clause
        for m in _CLAUSE_END.finditer(text, start, pos):
            if m.start() not in inside:
                start = m.end()
        for m in reversed(found):
            if m.start() < start:
                break
            sign = self.sign[m.group().lower()]
            if sign > 0 or pos - m.end() <= negative_window:
                return sign, m.group()
        return 0, ""

    def right_before(self, text: str, pos: int, window: int = 16) -> tuple[int, str]:
        """A cue that the number at ``pos`` directly follows: only spaces, a colon, ``is``/``to``/``of``, or
        ``是``/``为``/``到``/``号`` between them (``version 2.6.32.1``, ``升级到 2.6.32.1``, ``版本号：3.3.8.11``)."""
        found = list(self._rx.finditer(text, max(0, pos - window), pos))
        m = found[-1] if found else None
        if m is None or not _GAP.fullmatch(text, m.end(), pos):
            return 0, ""
        return self.sign[m.group().lower()], m.group()

    def after(self, text: str, pos: int) -> tuple[int, str]:
        """(+1 | -1 | 0, word) for a cue right after ``pos`` (``555 1234 office``, ``(579) 888-3058 (fax)``);
        a word followed by a colon or by another number labels what comes next, so it does not count."""
        m = self._rx.match(text, _AFTER_GAP.match(text, pos).end())
        if m is None or _LABEL.match(text, m.end()) or _NEXT_NUMBER.match(text, m.end()):
            return 0, ""  # "Fax:" or "Dial +55 …" introduce the next number
        return self.sign[m.group().lower()], m.group()
