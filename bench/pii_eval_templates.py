"""Phrasings and Faker locales of the PII evaluation sets (``bench/pii_eval_data.py``).

Each pool is split in two by position: even entries build the ``tune`` part, odd entries the ``report``
part, so the figures reported come from phrasings the detector was not tuned on. ``cue`` phrasings name the
value's kind around it in a way a person would; ``bare`` ones leave the value on its own.
"""

from __future__ import annotations

# Faker locale -> region whose formats it prints (all in the detector's default phone_regions)
PHONE_LOCALES = {"en_US": "US", "zh_CN": "CN", "en_GB": "GB", "de_DE": "DE", "fr_FR": "FR", "en_IN": "IN",
                 "ja_JP": "JP", "pt_BR": "BR", "ru_RU": "RU", "es_ES": "ES", "it_IT": "IT", "ko_KR": "KR",
                 "en_AU": "AU", "nl_NL": "NL", "zh_TW": "TW", "en_CA": "CA", "es_MX": "MX"}
# regions outside the default list, reported apart (what a user of those regions gets without configuring)
OTHER_PHONE_LOCALES = {"pl_PL": "PL", "sv_SE": "SE", "tr_TR": "TR", "cs_CZ": "CZ", "da_DK": "DK"}
IBAN_LOCALES = ("en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "pt_PT", "fi_FI", "da_DK",
                "no_NO", "cs_CZ", "sk_SK", "ro_RO", "el_GR", "tr_TR", "ru_RU", "uk_UA", "de_AT", "de_CH",
                "nl_BE", "en_IE", "az_AZ", "pt_BR")
CARD_TYPES = ("maestro", "mastercard", "visa16", "visa13", "visa19", "amex", "discover", "diners", "jcb15",
              "jcb16")

# templates: (kind of cue, text); "{v}" is the value. Even positions tune, odd positions report.
PLANT = {
    "PHONE": {
        "en": [("cue", "Call {v} for details."), ("cue", "Phone: {v}"), ("cue", "Tel. {v}"), ("cue", "Fax: {v}"),
               ("cue", "mobile {v}"), ("cue", "Contact the maintainer on {v}."), ("cue", "{v} (office)"),
               ("cue", "Hotline {v}"), ("cue", "Please ring {v} after 6pm."), ("cue", "reach me at {v}"),
               ("cue", "my number is {v}"), ("cue", "Dial {v} to reach support."), ("cue", "text me at {v}"),
               ("cue", "Office: {v}"), ("bare", "{v}"), ("bare", "{v}"), ("bare", "Maintainer: Jane Roe, {v}."),
               ("bare", "Jane Roe {v}")],
        "zh": [("cue", "电话：{v}"), ("cue", "手机 {v}"), ("cue", "请致电{v}。"), ("cue", "联系方式：{v}"),
               ("cue", "传真：{v}"), ("cue", "如有问题请拨打{v}"), ("cue", "热线{v}"), ("cue", "联系人：王先生 {v}"),
               ("cue", "客服电话 {v}"), ("cue", "打{v}找我"), ("cue", "我的号码是{v}"), ("cue", "有事找我 {v}"),
               ("bare", "{v}"), ("bare", "{v}"), ("bare", "王先生 {v}"), ("bare", "李女士，{v}")],
    },
    "CREDIT_CARD": {
        "en": [("cue", "Card number: {v}"), ("cue", "Paid with Visa {v}."), ("cue", "credit card {v}"),
               ("cue", "charged to {v}"), ("bare", "{v}"), ("bare", "{v}")],
        "zh": [("cue", "卡号：{v}"), ("cue", "信用卡 {v}"), ("cue", "银行卡号{v}"), ("cue", "用卡 {v} 付款"),
               ("bare", "{v}"), ("bare", "{v}")],
    },
    "IBAN": {
        "en": [("cue", "IBAN: {v}"), ("cue", "Bank account {v}"), ("cue", "please transfer to {v}"), ("bare", "{v}")],
        "zh": [("cue", "收款账户 {v}"), ("cue", "账号：{v}"), ("bare", "{v}"), ("bare", "{v}")],
    },
    "CN_ID": {
        "en": [("cue", "ID card {v}"), ("bare", "{v}")],
        "zh": [("cue", "身份证号：{v}"), ("cue", "身份证 {v}"), ("cue", "证件号码 {v}"), ("cue", "公民身份号码{v}"),
               ("bare", "{v}"), ("bare", "{v}")],
    },
    "IP": {
        "en": [("cue", "server {v}"), ("cue", "connect to {v}:22"), ("cue", "from {v}"), ("cue", "ping {v}"),
               ("cue", "the host at {v}"), ("cue", "gateway {v}"), ("bare", "{v}"), ("bare", "{v}")],
        "zh": [("cue", "IP 地址 {v}"), ("cue", "服务器 {v}"), ("cue", "访问来自 {v}"), ("cue", "网关 {v}"),
               ("bare", "{v}"), ("bare", "{v}")],
    },
    "EMAIL": {
        "en": [("cue", "mail {v}"), ("cue", "<{v}>"), ("cue", "Send patches to {v}."), ("bare", "{v}")],
        "zh": [("cue", "联系邮箱：{v}"), ("cue", "邮件 {v}"), ("bare", "{v}"), ("bare", "{v}")],
    },
    "US_SSN": {
        "en": [("cue", "SSN {v}"), ("cue", "social security number {v}"), ("bare", "{v}"), ("bare", "{v}")],
        "zh": [("cue", "社会安全号 {v}"), ("bare", "{v}")],
    },
}
LOOK = {
    "version": ["version {v}", "Version: {v}", "upgrade to {v}", "{pkg} {v}", "{pkg} ({v}) unstable; urgency=medium",
                "版本 {v}", "升级到 {v} 版", "{pkg} {v} 已发布", "build {v}", "{v}", "v{v}", "{pkg}-{v}"],
    "date": ["on {v}", "{v}", "Date: {v}", "日期：{v}", "于 {v} 发布", "released {v}"],
    "order": ["Order #{v}", "order number {v}", "订单号：{v}", "Invoice no. {v}", "tracking number {v}", "单号 {v}",
              "Transaction ID {v}", "流水号{v}"],
    "luhn_fail": ["reference {v}", "ref. {v}", "{v}", "编号 {v}", "serial {v}", "Ticket {v}", "{v}", "{v}"],
    "cn_id_bad": ["身份证号 {v}", "{v}", "编号 {v}", "{v}"],
    "iban_bad": ["IBAN {v}", "{v}", "账号 {v}", "{v}"],
    "oid": ["OID {v}", "{v}", "algorithm {v}", "对象标识符 {v}", "({v})", "{v}"],
    "section": ["section {v}", "see {v}", "§{v}", "第 {v} 节", "{v} Introduction", "参见 {v}"],
    "isbn": ["ISBN {v}", "ISBN：{v}", "{v}", "{v}"],
    "amount": ["{v}", "total {v}", "共 {v}", "{v}"],
}
