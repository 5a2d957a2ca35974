"""Social-post text normalisation, the same for training, screening and keyword rules.

Posts carry URLs, @mentions, #hashtags (`#FloodRelief`, `#help_needed`, Weibo's `#河南暴雨#`),
emoji, full-width characters and traditional or simplified Chinese. Normalised text keeps what
carries meaning (hashtag words, emoji, the words themselves) in one form: URLs and mentions go,
hashtags become words, full-width forms become half-width (NFKC), traditional characters become
simplified ones (a small table of the characters flood posts use), case is folded.

`has_text` is False when nothing but URLs, mentions, emoji, digits or punctuation is left: such a
post is scored "no text", never a negative. The script shares tell how much of a post is in a
script the features know (Latin, Han) and whether it mixes them: screening lowers its confidence
for mixed or unknown-script posts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Characters read by a text model; the store keeps the whole text.
MAX_MODEL_CHARS = 2000

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9.-]+\.(?:com|cn|org|net|io|ly|co)/\S*", re.IGNORECASE)
_MENTION = re.compile(r"@[\w\-.]+")
_ZH_TAG = re.compile(r"#([^#\s][^#\n]{0,60}?)#")
_TAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_LETTER = re.compile(r"[^\W\d_]")
_HAN = re.compile("[\u4e00-\u9fff\u3400-\u4dbf]")
_LATIN = re.compile("[a-z\u00c0-\u024f]")

# Traditional -> simplified for the characters flood and relief posts use (pairs: trad, simp).
_T2S_PAIRS = (
    "颱台風风災灾難难區区嚴严請请幫帮緊紧護护們们這这個个從从樓楼層层橋桥斷断壞坏損损報报導导謠谣實实際际"
    "錯错誤误資资訊讯電电車车輛辆線线醫医療疗藥药糧粮飲饮隊队員员經经過过專专業业準准備备發发佈布預预氣气"
    "當当離离點点機机場场鐵铁閉闭關关務务網网絡络濫滥積积內内澇涝漲涨勢势傳传說说據据聞闻給给縣县鄉乡鎮镇"
    "還还沒没來来話话聯联繫系號号碼码長长時时間间應应該该門门戶户遠远桿杆雖虽漢汉灣湾廣广東东莊庄蘇苏陽阳"
    "華华會会為为與与齊齐轉转動动頭头問问題题見见現现視视覺觉親亲愛爱歡欢開开閃闪燈灯無无處处變变舊旧壓压"
    "廠厂倉仓庫库兒儿孫孙媽妈爺爷籲吁懇恳協协熱热聲声響响衝冲邊边壩坝潰溃決决險险範范圍围遊游謹谨別别繞绕"
    "禮礼讓让鬧闹謊谎騙骗闢辟證证確确認认偽伪圖图稱称傷伤屍尸體体蹤踪尋寻贈赠飯饭麵面礦矿衛卫紙纸帳帐隻只"
    "鐘钟週周後后裡里裏里麼么嗎吗靜静溫温濕湿滲渗湧涌淺浅滿满樣样幾几萬万億亿歲岁園园學学職职術术設设纜缆"
    "燒烧攔拦擋挡軌轨運运輸输營营颶飓陸陆續续減减緩缓擴扩團团組组織织義义願愿寫写讀读書书畫画龍龙鳳凤馬马"
    "鳥鸟魚鱼貓猫寵宠盡尽儘尽參参撐撑紮扎補补擊击鏈链評评論论讚赞贊赞淨净師师氾泛險险搶抢災灾凍冻餘余"
    "塊块瀉泻漁渔鬆松緣缘車车廳厅電电總总統统織织檢检測测級级額额頻频寬宽鋼钢鋪铺鎖锁鏡镜陣阵隊队雜杂雙双"
    "雞鸡難难靈灵響响頂顶項项順顺須须領领頻频顏颜願愿類类顯显飛飞飽饱館馆驚惊驗验髮发鬥斗鮮鲜麗丽黃黄齡龄"
)
_T2S = {ord(_T2S_PAIRS[i]): _T2S_PAIRS[i + 1] for i in range(0, len(_T2S_PAIRS) - 1, 2)}


@dataclass(frozen=True)
class NormalizedText:
    """A post's text as the text models and keyword rules read it."""

    text: str
    has_text: bool
    latin_share: float  # of letters
    han_share: float
    truncated: bool

    @property
    def script_confidence(self) -> float:
        """1.0 for a post in one known script; lower when scripts mix or letters are in neither."""
        return round(max(self.latin_share, self.han_share), 4)


def split_hashtag(tag: str) -> str:
    """`FloodRelief2024` -> `Flood Relief 2024`, `help_needed` -> `help needed`."""
    return _CAMEL.sub(" ", tag.replace("_", " ")).strip()


def is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return unicodedata.category(ch) == "So" or 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or cp == 0xFE0F


def to_simplified(text: str) -> str:
    return text.translate(_T2S)


def normalize(text: str | None, max_chars: int = MAX_MODEL_CHARS) -> NormalizedText:
    """Normalise one post's text (see the module docstring); never raises on any input string."""
    raw = text if isinstance(text, str) else ""
    truncated = len(raw) > max_chars * 4
    raw = raw[: max_chars * 4]  # bound the regex work on a 100 KB post; the store keeps it whole
    s = unicodedata.normalize("NFKC", raw)  # full-width -> half-width, compatibility forms
    s = _URL.sub(" ", s)
    s = _MENTION.sub(" ", s)
    s = _ZH_TAG.sub(lambda m: f" {m.group(1)} ", s)
    s = _TAG.sub(lambda m: f" {split_hashtag(m.group(1))} ", s)
    s = to_simplified(s).replace("#", " ")
    s = _CONTROL.sub(" ", s)
    s = _SPACES.sub(" ", s).strip().lower()
    if len(s) > max_chars:
        s, truncated = s[:max_chars], True
    letters = len(_LETTER.findall(s))
    han = len(_HAN.findall(s))
    latin = len(_LATIN.findall(s))
    return NormalizedText(
        s, letters > 0, latin / letters if letters else 0.0, han / letters if letters else 0.0, truncated,
    )
