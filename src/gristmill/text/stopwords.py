"""Stop words per language for the Gopher stop-word signal (distinct stop words present in a document).

English is Gopher's own list (Rae et al. 2021, as datatrove uses it); Chinese is a list of the most frequent
function words, counted over jieba words.
"""

STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(["the", "be", "to", "of", "and", "that", "have", "with"]),
    "zh": frozenset(["的", "了", "是", "在", "和", "有", "我", "也", "不", "就", "都", "这", "那", "他", "她", "它", "你", "我们", "他们", "一个", "没有", "与", "及", "或", "但", "而", "为", "以", "对", "被", "把", "从", "到", "上", "中", "很", "还", "又", "要", "会", "可以", "因为", "所以", "如果", "之"]),
    "de": frozenset(["der", "die", "das", "und", "ist", "nicht", "mit", "von"]),
    "fr": frozenset(["le", "la", "les", "et", "de", "un", "une", "est"]),
    "es": frozenset(["el", "la", "los", "y", "de", "que", "en", "un"]),
}
