"""Writes posts.jsonl: English and Chinese flood-event posts written for MIST's text tests.

Every sentence below was written for this set, in the styles people post in during floods
(hashtags, emoji, mentions, links, abbreviations, traditional characters, mixed language). Posts
combine one or two sentences, so some hold several categories. Deterministic: rerun to rebuild.
"""

import json
import random
from pathlib import Path

# (categories, English sentences, Chinese sentences)
S = {
    ("urgent_help", "flood"): (
        ["we are trapped on the 2nd floor, water still rising, pls send a boat",
         "my grandma is stuck at home on Elm St and cant get out, the water is waist deep",
         "SOS 5 people on the roof of the school on River Rd, no food since last night",
         "need rescue asap, baby with fever and the ground floor is under water",
         "anyone with a boat near Maple Ave?? my neighbours are stranded",
         "help!! car swept off the road near the bridge, driver still inside",
         "trapped in the basement parking, water coming in fast, cant open the door",
         "pls RT: elderly couple stuck in their flat at 12 Oak Lane, phone battery dying",
         "we have been waiting 10 hrs for rescue, kids are cold, water everywhere",
         "urgent: dialysis patient cannot leave the village, roads are flooded",
         "stuck on the highway, cars floating around us, need help now",
         "my dad is diabetic and out of insulin, house surrounded by flood water"],
        ["我们被困在三楼，水还在涨，求救！", "奶奶一个人在家出不来，水已经到腰了，谁能帮帮忙",
         "求助！村里十几个人困在屋顶上，一晚上没吃东西", "急需救援，小孩发烧，一楼全淹了",
         "有没有人有船？邻居被困在家里两天了", "车被冲走了，司机还在里面，快来人啊",
         "地下车库进水了，门打不开，救命", "请转发：老人被困在五楼，手机快没电了",
         "等了十个小时还没人来救，孩子们冻得发抖", "村里有透析病人出不去，路全被淹了",
         "高速上被困，周围的车都漂起来了，求救", "我爸有糖尿病，胰岛素用完了，家门口全是水"]),
    ("relief_rescue", "flood"): (
        ["rescue teams have evacuated 300 residents from the east district overnight",
         "shelter open at Central High School gym, blankets and hot meals available",
         "volunteers needed at the Red Cross depot to sort donated water and food",
         "fire brigade boats are now working along River Rd, stay where you are",
         "drop off points for donations: city hall and the sports centre, 9am-6pm",
         "the army has sent 20 boats and 200 soldiers to the flooded towns",
         "free hotline for flood victims: 0800 123 456, open 24h",
         "relief trucks with drinking water arrived in the north villages this morning",
         "evacuation buses leave the train station every 30 min",
         "we rescued a family of four and their dog from Elm St, all safe now",
         "the community kitchen at St Mary's serves meals to anyone displaced by the flood",
         "helicopters are airlifting patients from the flooded hospital"],
        ["消防救援队连夜转移了三百多名群众", "市一中体育馆已开放为临时安置点，有被子和热饭",
         "红十字会仓库需要志愿者帮忙分拣捐赠的物资", "冲锋舟已经到了河边路，请原地等待救援",
         "捐赠物资可送到市政府和体育中心，早九点到晚六点", "部队派出二十艘冲锋舟和两百名官兵支援灾区",
         "受灾群众求助热线：12345，二十四小时有人接听", "运送饮用水的车今天上午到了北边几个村",
         "转移大巴每三十分钟从火车站发一班", "刚救出一家四口和他们的狗，都平安",
         "社区食堂为受灾群众免费提供饭菜", "直升机正在从被淹的医院转运病人"]),
    ("infrastructure_damage", "flood"): (
        ["the old bridge on Route 9 collapsed this morning, road closed both ways",
         "power outage across the whole north side after the substation flooded",
         "subway line 5 is flooded, all stations closed until further notice",
         "the levee broke near the farm road, water pouring into the fields",
         "landslide blocked the mountain road, two houses damaged",
         "water main burst downtown, streets turned into rivers",
         "train tracks washed away between the two towns, no service today",
         "the dam spillway was damaged, engineers on site",
         "cell towers down in the valley, no signal since yesterday",
         "the school roof caved in under the rain, nobody hurt",
         "half of the highway embankment is gone after the flood",
         "sewage plant flooded, tap water not safe to drink"],
        ["九号公路上的老桥今早塌了，双向封闭", "变电站进水，整个城北停电了",
         "地铁五号线进水，全线停运", "农场路附近的堤坝决堤了，水冲进了田里",
         "山路塌方，两栋房子被损毁", "市中心自来水管爆裂，街道变成了河",
         "两镇之间的铁轨被冲毁，今天全部停运", "水库泄洪道受损，工程师已到现场",
         "山谷里的信号塔倒了，从昨天起就没信号", "学校屋顶被雨压塌了，幸好没人受伤",
         "高速路基被洪水冲掉一半", "污水处理厂被淹，自来水暂时不能喝"]),
    ("caution_advice", "flood"): (
        ["red warning: heavy rain expected tonight, stay indoors if you can",
         "do not drive through flooded roads, 15 cm of moving water can knock you over",
         "keep away from power lines and fallen trees after the storm",
         "boil tap water before drinking until the authorities say otherwise",
         "forecast says the river will peak tomorrow at noon, move valuables upstairs",
         "schools closed tomorrow, please keep kids away from the river banks",
         "reminder: charge your phones and keep a torch ready tonight",
         "advisory for the coast: storm surge possible, avoid the beach",
         "turn off the gas and electricity before you leave a flooded house",
         "if water enters your car, get out and move to high ground",
         "weather office: more rain on the way, stay alert",
         "pls check on your elderly neighbours and avoid unnecessary travel"],
        ["红色预警：今晚有大暴雨，尽量不要出门", "请勿驾车通过积水路段，注意安全",
         "暴雨过后请远离电线和倒下的树", "在通知之前，自来水请烧开再喝",
         "预计明天中午河水达到洪峰，贵重物品请搬到楼上", "明天学校停课，请看好孩子不要去河边",
         "提醒大家：手机充满电，准备好手电筒", "沿海地区防范风暴潮，避免去海边",
         "离开进水的房子前先关掉燃气和电闸", "车里进水要马上下车，往高处走",
         "气象台：还有强降雨，大家做好防范", "请照顾好身边的老人，减少不必要的出行"]),
    ("misinformation", "flood"): (
        ["that photo of a shark on the highway is fake, it's from 2011",
         "rumor that the dam has collapsed is NOT true, officials confirm it's intact",
         "stop sharing the video of the flooded airport, it's an old clip from another country",
         "no, the government did not order everyone to leave the city, that message is a hoax",
         "the viral 'tsunami warning' text is false, there is no tsunami",
         "debunked: the picture of the submerged stadium was edited",
         "misleading post going round about contaminated tap water, the utility says it's safe",
         "the 'free money for flood victims' link is a scam, do not click it"],
        ["网传大坝溃坝是谣言，官方确认大坝完好", "高速公路上有鲨鱼的照片是假的，是2011年的旧图",
         "那个机场被淹的视频是旧视频，不是这次的", "政府要求全城撤离的消息是假消息，请不要转发",
         "辟谣：网传的海啸预警不实", "被淹体育场那张图是p的，别信",
         "自来水被污染的说法不实，水务局说可以放心用", "“受灾补助领取”链接是诈骗，不要点"]),
    ("not_relevant", "not_flood"): (
        ["just had the best ramen of my life lol", "anyone watching the match tonight?",
         "new phone arrived today, loving the camera", "monday again... need coffee",
         "happy birthday to my little sister!!", "the traffic on the ring road is terrible as always",
         "selling my old bike, dm me", "what a beautiful sunset from the office window",
         "can't wait for the concert next week", "my cat knocked over the plant again",
         "finished the marathon in under 4 hours!", "the new mall opens on saturday"],
        ["今天吃到了超好吃的拉面哈哈", "今晚有人看球吗", "新手机到了，拍照真不错", "又是周一，需要咖啡续命",
         "祝我妹妹生日快乐！", "环路又堵了，每天都这样", "出一辆旧自行车，有意私信", "办公室窗外的夕阳好美",
         "下周的演唱会好期待", "猫又把花盆打翻了", "马拉松跑进了四小时！", "新商场周六开业"]),
    ("not_relevant", "flood"): (
        ["the rain is so loud tonight, can't sleep", "flood pics from my street, crazy weather",
         "watching the river rise from my balcony, wow", "the park near my house is a lake now haha",
         "rainy days are for movies and noodles", "my shoes are soaked, the streets are flooded again"],
        ["雨好大，睡不着", "我家楼下的街道变成河了，这天气", "在阳台看着河水涨起来", "家旁边的公园变成湖了哈哈",
         "下雨天就适合在家看电影吃面", "鞋全湿了，街上又积水了"]),
}

HASHTAGS_EN = ["#FloodRelief", "#HoustonFlood", "#stormwatch", "#help_needed", "#RiverTownFloods2026", "#SOS"]
HASHTAGS_ZH = ["#河南暴雨#", "#郑州暴雨互助#", "#暴雨#", "#防汛#", "#水浸街#", "#台风#"]
EMOJI = ["🌊", "🆘", "🙏", "😭", "⚠️", "🚨", "💧", "😱", "❤️"]
MENTIONS = ["@cityfire", "@RedCrossNews", "@weather_office", "@江城消防", "@中国气象局", "@local_news"]
ABBREV = {"please": "pls", "people": "ppl", "tonight": "2nite", "you": "u", "are": "r", "because": "bc"}
# Traditional forms for the Hong Kong / Taiwan style of the set (applied to Chinese posts).
TRAD = str.maketrans(
    "们这个从楼层桥断坏损报谣实际错误电车辆线医疗药粮队员经过专业准备发预气当离点机场铁闭关务网积内涝涨势"
    "传说据给县乡镇还没来话联号长时间应该门户远虽汉广东华会为与齐转动头问题见现视觉亲爱开灯无处变旧压厂仓"
    "库儿孙妈爷协热声响冲边坝溃决险范围别绕让证确认伪图称伤寻赠饭衛纸帐只钟周后里么吗静温湿渗满样几万岁园"
    "学职术设烧拦挡轨运输营陆续减缓扩团组织义愿写书",
    "們這個從樓層橋斷壞損報謠實際錯誤電車輛線醫療藥糧隊員經過專業準備發預氣當離點機場鐵閉關務網積內澇漲勢"
    "傳說據給縣鄉鎮還沒來話聯號長時間應該門戶遠雖漢廣東華會為與齊轉動頭問題見現視覺親愛開燈無處變舊壓廠倉"
    "庫兒孫媽爺協熱聲響衝邊壩潰決險範圍別繞讓證確認偽圖稱傷尋贈飯衛紙帳隻鐘週後裡麼嗎靜溫濕滲滿樣幾萬歲園"
    "學職術設燒攔擋軌運輸營陸續減緩擴團組織義願寫書",
)
MIXED = ["so scary", "omg", "stay safe everyone", "help", "RT", "update"]
MIXED_ZH = ["太可怕了", "大家注意安全", "求转发", "急", "更新"]


def styled(rng, text, lang):
    if lang == "zh":
        if rng.random() < 0.25:
            text = text.translate(TRAD)
        if rng.random() < 0.4:
            text = rng.choice(HASHTAGS_ZH) + text
        if rng.random() < 0.15:
            text = text + " " + rng.choice(MIXED)
        if rng.random() < 0.15:
            text = text.replace("，", ",").replace("！", "!")
        if rng.random() < 0.1:
            text = "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in text)  # full-width digits
    else:
        if rng.random() < 0.3:
            text = " ".join(ABBREV.get(w, w) for w in text.split())
        if rng.random() < 0.35:
            text = text + " " + rng.choice(HASHTAGS_EN)
        if rng.random() < 0.2:
            text = text.upper() if rng.random() < 0.5 else text.capitalize()
        if rng.random() < 0.15:
            text = text + " " + rng.choice(MIXED_ZH)
    if rng.random() < 0.3:
        text = text + " " + "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.2:
        text = rng.choice(MENTIONS) + " " + text
    if rng.random() < 0.15:
        text = text + " https://t.co/" + "".join(rng.choice("abcdefXYZ0123") for _ in range(10))
    return text


def main():
    rng = random.Random(19)
    posts = []
    pools = [(cats, lang, s) for cats, (en, zh) in S.items() for lang, ss in (("en", en), ("zh", zh)) for s in ss]
    # Each sentence belongs to one of five folds; a post only combines sentences of one fold, so
    # cross-validation by fold never scores a sentence a head has seen in another style.
    order = list(range(len(pools)))
    rng.shuffle(order)
    fold_of = {i: k % 5 for k, i in enumerate(order)}
    for _rep in range(2):  # every sentence twice, in different styles
        for i, (cats, lang, s) in enumerate(pools):
            posts.append({"text": styled(rng, s, lang), "lang": lang, "categories": sorted(cats),
                          "fold": fold_of[i]})
    # multi-label posts: two sentences of different categories, same language and fold
    relevant = [i for i, p in enumerate(pools) if "not_relevant" not in p[0]]
    for _ in range(140):
        a = rng.choice(relevant)
        b = rng.choice([j for j in relevant if pools[j][1] == pools[a][1] and fold_of[j] == fold_of[a]
                        and pools[j][0] != pools[a][0]])
        cats = set(pools[a][0]) | set(pools[b][0])
        lang = pools[a][1]
        text = pools[a][2] + ("。" if lang == "zh" else ". ") + pools[b][2]
        posts.append({"text": styled(rng, text, lang), "lang": lang, "categories": sorted(cats), "fold": fold_of[a]})
    rng.shuffle(posts)
    for i, p in enumerate(posts):
        p["post_id"] = f"t{i:04d}"
    out = Path(__file__).with_name("posts.jsonl")
    out.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts), encoding="utf-8")
    print(len(posts), "posts ->", out)


if __name__ == "__main__":
    main()
