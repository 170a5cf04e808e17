"""Text normalization shared by indexing and querying (and reusable elsewhere).

People type the same question in many forms: full-width letters and digits
(``ＶＩＰ``, ``１２３``), upper case, traditional characters (``電梯壞了``).
:func:`normalize` folds all of them to one form so that the analyzer sees
``vip``, ``123`` and ``电梯坏了``.
"""

from __future__ import annotations

import os
import unicodedata

import zhconv
import zhconv.zhconv as _zhconv

# zhconv loads its dictionary lazily through a file it never closes (a
# ResourceWarning); load it by path, which zhconv reads inside ``with``.
_zhconv.loaddict(os.path.join(os.path.dirname(_zhconv.__file__), "zhcdict.json"))


def normalize(text: str) -> str:
    """NFKC (full-width -> half-width), lower case, traditional -> simplified Chinese."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return str(zhconv.convert(folded, "zh-cn"))
