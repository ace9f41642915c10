"""Promotional posts: a link with mostly promotional text and little of the poster's own view.

The platform asks members not to post adverts; like a link-only post, an advert gets a gentle
nudge to add one's own view, never a warning or a case. A post is an advert when, besides a
link that is not to Slack, its own words (links, mentions and emoji removed) use several
promotional phrases (セミナー, 無料, 申込, 弊社, ご紹介, 詳細はこちら…: three with a hard sell
such as 先着, 今すぐ, 弊社, 今なら半額, 資料請求; four without) and hardly any words of a member's
own experience or opinion (思います, 当市でも, 参考になりました, ですか…). Without a hard sell
only a seller's pitch (弊社, 株式会社, 製品, サービス, 見積…) or an event nobody public organises
is an advert: a member announcing their own organisation's event (当市主催, 当課) or a public
body's training (県の研修, デジタル庁主催) is news.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.detectors.link_only import MAX_OWN_CHARACTERS, LinkedPost
from bot.detectors.model import FindingKind, Hit, nudge

# Promotional phrases; the hard sells below count as promotional too.
_PROMOTION = re.compile(
    r"セミナー|ウェビナー|webinar|説明会|展示会|体験会|無料|申込|申し込|エントリー|参加登録|登録は|定員"
    r"|受付中|ご紹介|紹介します|導入事例|お問い?合わ?せ|詳細|詳しくは|こちらから|サービス|ソリューション|製品"
    r"|新機能|リリース|デモ|ぜひ|是非|登壇|ご参加|ご案内|特設|ダウンロード|講座|研修|参加費|オフ|開催|配信"
    r"|募集|実績|相談|診断|受講|講師|修了|期生|チケット|tickets?|join|招待|ノウハウ|伝授|養成|スキル|コース"
    r"|course|売れる|集客|お得|承って|求人|転職|キャリア|シミュレーション|削減|しませんか|whitepaper|download"
    r"|demo|forum|pass|seats|code|見積り|サポートします|一括|パッケージ|プラン|大幅|株式会社|効率化に|なら弊社"
    r"|実施中|募集中|公開中|事例集|free|register|sign up|trial|discount",
    re.IGNORECASE,
)
_HARD_SELL = re.compile(
    r"先着|残りわずか|残席|今すぐ|お早めに|締め?切間近|締切迫|お見逃し|限定|特典|キャンペーン|割引|プレゼント"
    r"|弊社|当社|資料請求|無料トライアル|トライアル|導入実績|お気軽に|詳細はこちら|詳しくはこちら|開催決定|今なら|半額|早割"
    r"|%off|% off|!{2,}|★|お任せ|特別価格|ご提供|提供(?:を)?開始|お見積|定員になり次第|主催:株式会社"
    r"|お申し?込みは(?:こちら|下記)|詳細・お申し?込み|資料ダウンロード|24時間|業界初|実質0円|no\.?1|初期費用"
    r"|成果報酬|無料相談|ご提案|承ります|フリーダイヤル|応募はこちら|採用中|カジュアル面談|年収|一緒に働きませんか"
    r"|new!|要事前登録|月額|円から|会員募集|hiring|活躍しています|今だけ|セール|受講料|初回(?:相談)?無料|無料診断"
    r"|\[pr\]|【pr】|early[- ]?bird|book a demo|download free|use code|limited|register now|sign up now"
    r"|しませんか\?|無料シミュレーション|無料キャリア|自治体様|採択率|満足度|修了生|期生募集|キャッシュバック|特価"
    r"|our (?:product|service|solution)|free trial|求人多数",
    re.IGNORECASE,
)
_OWN_VIEW = re.compile(
    r"思い|と思|感じ|個人的|印象|参考にな|勉強にな|気にな|興味深|私は|私も|私の|自分|うちの|うちでも"
    r"|当(?:市|町|村|区|県|課|庁)(?:でも|では|の)|本(?:市|町|村)(?:でも|では)|皆さん|みなさん|どう(?:思|でしょう|され)"
    r"|ですか|ますか|でしょうか|(?<!ませんか)\?|経験|実際に|試して|使ってみ|拝見|読んで|よかった|良かった|便利"
    r"|課題|悩ん|困って|なるほど|同感|気づ|学び|ポイントは|特に|ただ、|一方"
)
# A member's own organisation speaking (当市主催, 私たちの課): an announcement, unless it hard-sells.
_OWN_ORGANISATION = re.compile(
    r"当(?:市|町|村|区|県|課|庁|室|係)|本(?:市|町|村|県)|弊(?:市|町|村|県|課)|私たち|うちの|主催"
)
# Without a hard sell, only a seller advertises: a public body's training or briefing is news.
_COMMERCIAL = re.compile(
    r"弊社|当社|株式会社|\(株\)|製品|サービス|ソリューション|価格|見積|資料請求|プラン|パッケージ|ツール"
    r"|「[^」]{1,24}」(?:の|を)?(?:ご紹介|ご案内|提供)|導入(?:なら|支援)|お任せ|our |trial",
    re.IGNORECASE,
)
_EVENT = re.compile(r"セミナー|ウェビナー|webinar|講座|説明会|体験会", re.IGNORECASE)
# A public body organising it: 県の研修, デジタル庁主催, 〇〇市が開催.
_PUBLIC_ORGANISER = re.compile(
    r"(?:[県市町村区庁省府]|機構|協議会|事務局)(?:が|の|で)?(?:主催|共催|開催する|実施する|研修)"
)
_QUOTED = re.compile(r"「[^」]*」|『[^』]*』")
MIN_PROMOTIONS = 3  # with a hard sell
MIN_PROMOTIONS_PLAIN = 4  # without one, from a seller


def _sold(words: str) -> bool:
    """Without a hard sell: a seller's pitch, or an event nobody public organises."""
    if _OWN_ORGANISATION.search(words) or _PUBLIC_ORGANISER.search(words):
        return False
    return bool(_COMMERCIAL.search(words) or _EVENT.search(words))


def detect(post: LinkedPost | None) -> Iterator[Hit]:
    if post is None or post.own_count <= MAX_OWN_CHARACTERS:
        return  # no link, or a link-only post (link_only.py)
    words = f"{post.own_words} {post.labels}"
    hard_sells = [match.group().lower() for match in _HARD_SELL.finditer(words)]
    if not hard_sells and not _sold(words):
        return
    promotions = {match.group().lower() for match in _PROMOTION.finditer(words)}
    promotions.update(hard_sells)
    if len(promotions) < (MIN_PROMOTIONS if hard_sells else MIN_PROMOTIONS_PLAIN):
        return
    views = len(_OWN_VIEW.findall(_QUOTED.sub("", words)))  # a quoted title is not a view
    if views > (2 if len(hard_sells) >= 2 else 1):  # hype asks questions too
        return
    start, end = post.first_link
    yield nudge(FindingKind.ADVERT, start, end, "宣伝が中心の投稿", 0.7 if views else 0.8)
