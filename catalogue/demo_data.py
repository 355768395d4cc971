"""A realistic demo province (演示目录): catalogue and reference-price files, generated with numpy.

`generate_catalogue(size, seed)` returns a DataFrame in the upload format (FORMATS.md §1):
≈ size/40 generic names, several makers per generic (原研/参比 priced highest, 过评 in the middle,
未过评 lowest), several strengths (×2, ×4) and packs per maker, injections with `2ml:30mg` specs,
IU powders, volume-only syrups, a few unparsed/复方 specs, some 暂停/撤网 rows and a few VBP winners.

Prices follow RULES.md §3 exactly (base unit price in whole 角 × K^log2(strength ratio) × pack), so
a consistent catalogue raises no flag; a seeded minority of rows is then overpriced (and VBP
winners undercut their groups) so that roughly 3–8 % of listings are flagged — as in real rounds.
`seed_demo` builds the whole demo: users, catalogue "湖南 演示目录" plus the shared sample rows.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

CATALOGUE_HEADER = [
    "挂网编号", "医保药品编码", "通用名", "商品名", "剂型", "规格", "转换比", "最小制剂单位", "包装单位",
    "生产企业", "上市许可持有人", "质量层次", "是否集采中选", "挂网价格", "挂网状态",
]  # fmt: skip
REFERENCE_HEADER = ["省份", "医保药品编码", "通用名", "剂型", "规格", "转换比", "生产企业", "挂网价格"]
DEMO_LABEL = "湖南 演示目录"
DEMO_REFERENCE_LABEL = "演示省际挂网价"
DEMO_PASSWORD = "Jiupian-Demo-2026"
MAKER1_COMPANY = "Asahi Kasei Pharma Corporation"
MAKER2_COMPANY = "苏州二叶制药有限公司"

STEMS = (
    "阿莫西林 头孢呋辛 头孢克肟 头孢曲松 左氧氟沙星 莫西沙星 阿奇霉素 克拉霉素 罗红霉素 甲硝唑 替硝唑 奥硝唑 "
    "克林霉素 万古霉素 美罗培南 亚胺培南 哌拉西林 氨曲南 利奈唑胺 氟康唑 伏立康唑 阿昔洛韦 更昔洛韦 奥司他韦 "
    "恩替卡韦 替诺福韦 二甲双胍 格列美脲 格列齐特 阿卡波糖 西格列汀 利格列汀 达格列净 恩格列净 吡格列酮 瑞格列奈 "
    "阿托伐他汀 瑞舒伐他汀 辛伐他汀 普伐他汀 匹伐他汀 依折麦布 非诺贝特 氨氯地平 硝苯地平 非洛地平 左氨氯地平 "
    "贝尼地平 厄贝沙坦 缬沙坦 氯沙坦 替米沙坦 坎地沙坦 奥美沙坦 培哚普利 贝那普利 依那普利 美托洛尔 比索洛尔 "
    "卡维地洛 阿罗洛尔 氢氯噻嗪 吲达帕胺 螺内酯 呋塞米 托拉塞米 氯吡格雷 替格瑞洛 阿司匹林 华法林 利伐沙班 "
    "达比加群 阿哌沙班 法舒地尔 丹参酮 银杏叶提取物 奥美拉唑 兰索拉唑 泮托拉唑 雷贝拉唑 艾司奥美拉唑 法莫替丁 "
    "铝碳酸镁 莫沙必利 多潘立酮 伊托必利 蒙脱石 美沙拉秦 熊去氧胆酸 多烯磷脂酰胆碱 异甘草酸镁 还原型谷胱甘肽 "
    "氨溴索 乙酰半胱氨酸 孟鲁司特 布地奈德 沙丁胺醇 特布他林 多索茶碱 氯雷他定 西替利嗪 依巴斯汀 左西替利嗪 "
    "布洛芬 对乙酰氨基酚 双氯芬酸 塞来昔布 依托考昔 洛索洛芬 美洛昔康 曲马多 加巴喷丁 普瑞巴林 卡马西平 "
    "丙戊酸 左乙拉西坦 拉莫三嗪 奥卡西平 托吡酯 舍曲林 帕罗西汀 氟西汀 艾司西酞普兰 文拉法辛 度洛西汀 米氮平 "
    "奥氮平 利培酮 喹硫平 阿立哌唑 帕利哌酮 多奈哌齐 美金刚 石杉碱甲 胞磷胆碱 奥拉西坦 依达拉奉 尼莫地平 "
    "甲钴胺 前列地尔 丁苯酞 长春西汀 左甲状腺素 甲巯咪唑 骨化三醇 阿法骨化醇 阿仑膦酸 碳酸钙 泼尼松 甲泼尼龙 "
    "地塞米松 氢化可的松 他克莫司 环孢素 吗替麦考酚酯 来氟米特 羟氯喹 甲氨蝶呤 卡培他滨 替吉奥 来曲唑 阿那曲唑 "
    "他莫昔芬 比卡鲁胺 伊马替尼 吉非替尼 厄洛替尼 奥沙利铂 多西他赛 紫杉醇 培美曲塞 吉西他滨 昂丹司琼 帕洛诺司琼 "
    "坦索罗辛 非那雄胺 西地那非 他达拉非 索利那新 托特罗定 青霉素 氨苄西林 头孢唑林 头孢他啶 头孢哌酮舒巴坦"
).split()
SALTS = ("", "盐酸", "硫酸", "磷酸", "马来酸", "枸橼酸", "甲磺酸", "琥珀酸", "富马酸", "酒石酸")

# category: (name pattern, dosage forms, min unit, pack unit, packs, spec kind, K family, weight)
CATEGORIES = {
    "tablet": ("{n}片", ("片剂", "片", "薄膜衣片", "普通片", "糖衣片"), "片", "盒",
               (7, 10, 12, 14, 20, 24, 28, 30, 36, 48, 60, 100), "mass", 0.30),
    "sustained": ("{n}缓释片", ("缓释片",), "片", "盒", (7, 10, 14, 20, 28, 30), "mass", 0.05),
    "capsule": ("{n}胶囊", ("胶囊剂", "胶囊", "硬胶囊"), "粒", "盒", (6, 10, 12, 18, 20, 24, 30, 36, 48), "mass", 0.15),
    "injection": ("{n}注射液", ("注射液", "注射剂", "小容量注射液"), "支", "盒", (1, 5, 6, 10), "vol_content", 0.15),
    "powder": ("注射用{n}", ("注射用无菌粉末", "冻干粉针剂", "粉针剂"), "瓶", "盒", (1, 10, 20, 50), "powder", 0.12),
    "granule": ("{n}颗粒", ("颗粒剂", "颗粒"), "袋", "盒", (6, 9, 10, 12, 18, 20), "granule", 0.08),
    "syrup": ("{n}口服溶液", ("口服溶液剂", "糖浆剂"), "支", "盒", (1, 6, 10, 12), "volume", 0.07),
    "compound": ("复方{n}片", ("片剂", "薄膜衣片"), "片", "盒", (12, 24, 36, 48), "unparsed", 0.03),
    "eye": ("{n}滴眼液", ("滴眼剂",), "支", "盒", (1,), "percent", 0.05),
}  # fmt: skip
CAT_NAMES = tuple(CATEGORIES)
MASS_BASES = np.array([5, 10, 20, 25, 50, 100, 125, 250, 500])  # mg
INJ_BASES = ((1, 5), (2, 10), (2, 30), (2, 20), (5, 50), (1, 40), (10, 100), (2, 4))  # (ml, mg)
POWDER_BASES = (("mg", 250), ("mg", 500), ("mg", 1000), ("IU", 400000), ("IU", 800000), ("IU", 1000000))
GRANULE_BASES = np.array([3000, 5000, 6000, 10000])
VOLUME_BASES = np.array([5, 10, 100])
UNPARSED = ("复方", "每片含主药0.25g与辅药", "复方(含维生素B1 10mg)")
PERCENT = ("0.5%", "0.3%", "1%:5ml", "5ml:25mg(0.5%)")

CITIES = (
    "北京 上海 天津 重庆 广州 深圳 杭州 南京 苏州 无锡 常州 扬州 济南 青岛 烟台 石家庄 太原 沈阳 大连 长春 "
    "哈尔滨 合肥 福州 厦门 南昌 郑州 武汉 长沙 株洲 湘潭 南宁 海口 成都 贵阳 昆明 西安 兰州 西宁 银川 乌鲁木齐"
).split()
BRANDS = (
    "华润 石药 齐鲁 恒瑞 扬子江 正大天晴 科伦 海正 复星 华海 信立泰 京新 国药 白云山 九州 康恩贝 翰森 豪森 "
    "普洛 新华 东阳光 仁和 同仁 九芝堂 千金 汉森 康弘 人福 丽珠 健康元 鲁南 步长 天士力 以岭 华北 东北 "
    "太极 西南 一品红 联邦"
).split()
KINDS = ("制药", "药业", "医药", "生物制药", "制药厂", "药品")
SUFFIXES = ("有限公司", "股份有限公司", "集团有限公司")
FOREIGN = (
    "Pfizer Pharmaceuticals Ltd.", "AstraZeneca AB", "Merck Sharp & Dohme Ltd.", "Novartis Pharma AG",
    "Sanofi Winthrop Industrie", "Bayer AG", "GlaxoSmithKline Ltd.", "Takeda Pharmaceutical Company Limited",
    "Eisai Co., Ltd.", "Daiichi Sankyo Co., Ltd.", "Boehringer Ingelheim International GmbH", "Roche Pharma AG",
)  # fmt: skip
PROVINCES = ("广东", "江苏", "浙江", "山东", "四川", "湖北", "河南", "江西", "广西", "福建")
TIER_CLASS_TEXTS = {
    "ref": ("原研", "参比制剂"),
    "eval": ("过评", "过评", "过评", "视同过评", "通过一致性评价"),
    "uneval": ("未过评",),
    "new": ("新药",),
}


def _distinct(combos: int, count: int, rng: np.random.Generator, p: np.ndarray | None = None) -> np.ndarray:
    """`count` distinct indices into a grid of `combos` (repeating the grid, numbered, beyond it)."""
    first = rng.choice(combos, size=min(count, combos), replace=False, p=p)
    if count <= combos:
        return first
    return np.concatenate([first, rng.integers(0, combos, count - combos)])


def _numbered(names: list[str], template: str) -> np.ndarray:
    """Make names unique: later repeats get a numbered variant."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, k = name, 1
        while candidate in seen:
            k += 1
            candidate = template.format(name=name, k=k)
        seen.add(candidate)
        out.append(candidate)
    return np.array(out, dtype=object)


def _generic_names(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`count` distinct generic names and their categories (drawn with realistic weights)."""
    weights = np.array([CATEGORIES[c][-1] for c in CAT_NAMES])
    n_stem, n_salt, n_cat = len(STEMS), len(SALTS), len(CAT_NAMES)
    grid_p = np.tile(weights / weights.sum(), n_stem * n_salt)
    salt_bias = np.repeat(np.where(np.arange(n_salt) == 0, 4.0, 1.0), n_cat)
    grid_p = grid_p * np.tile(salt_bias, n_stem)
    picks = _distinct(n_stem * n_salt * n_cat, count, rng, grid_p / grid_p.sum())
    cats = picks % n_cat
    salts = (picks // n_cat) % n_salt
    stems = picks // (n_cat * n_salt)
    names = [
        CATEGORIES[CAT_NAMES[c]][0].format(n=SALTS[sa] + STEMS[st])
        for c, sa, st in zip(cats, salts, stems, strict=True)
    ]
    return _numbered(names, "{name}({k})"), cats


def _maker_pool(size: int, rng: np.random.Generator) -> np.ndarray:
    """The two demo companies, some originators, then distinct domestic company names."""
    fixed = [MAKER1_COMPANY, MAKER2_COMPANY, *FOREIGN]
    grid = len(CITIES) * len(BRANDS) * len(KINDS) * len(SUFFIXES)
    picks = _distinct(grid, max(0, size - len(fixed)), rng)
    names = []
    for p in picks:
        p, suffix = divmod(int(p), len(SUFFIXES))
        p, kind = divmod(p, len(KINDS))
        city, brand = divmod(p, len(BRANDS))
        names.append(f"{CITIES[city]}{BRANDS[brand]}{KINDS[kind]}{SUFFIXES[suffix]}")
    return np.concatenate([np.array(fixed, dtype=object), _numbered(names, "{name}第{k}分公司")])


def _format_unique(values: np.ndarray, style: np.ndarray, fmt) -> np.ndarray:
    """Format each distinct (value, style) pair once."""
    key = pd.MultiIndex.from_arrays([values, style])
    codes, uniques = pd.factorize(key)
    texts = np.array([fmt(v, s) for v, s in uniques], dtype=object)
    return texts[codes]


def _mass_text(value: float, in_g: bool) -> str:
    if in_g:
        return f"{value / 1000:g}g"
    return f"{value * 1000:g}μg" if value < 1 else f"{value:g}mg"


def _fmt_mass(mg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mass in mg as 规格 text: '20mg', '0.25g' (≥ 250 mg mostly written in g), '500μg'."""
    mg = np.asarray(mg, dtype=float)
    as_g = (mg >= 250) & (rng.random(len(mg)) < 0.8)
    return _format_unique(mg, as_g, _mass_text)


def _fmt_iu(iu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    styles = rng.integers(0, 3, size=len(iu))
    return _format_unique(
        np.asarray(iu, dtype=float),
        styles,
        lambda v, s: (f"{v / 10000:g}万单位", f"{v / 10000:g}万U", f"{int(v)}IU")[s],
    )


@dataclass
class DemoFiles:
    catalogue: pd.DataFrame
    reference: pd.DataFrame


def generate_catalogue(
    size: int,
    seed: int = 42,
    *,
    code_prefix: str = "HN",
    code_offset: int = 100000,
    overpriced_share: float = 0.03,
    reference_share: float = 0.05,
) -> DemoFiles:
    """A demo province of exactly `size` listings (and its reference-price file), deterministic per seed.

    `overpriced_share`: the fraction of rows priced 5 %–20× above their level (the main source of
    flags; the load benchmark raises it to reach a round of ≈ 100,000 flags over 1,000,000 rows).
    `reference_share`: the fraction of listings other provinces also list (the reference file has ≈ 1.9
    rows per such listing; the province-scale benchmark uses 0.34 for ≈ 120,000 rows per 200,000).
    """
    rng = np.random.default_rng(seed)
    n_generics = max(5, int(np.ceil(size / 40)))
    generic_names, cats = _generic_names(n_generics, rng)
    pool = _maker_pool(max(40, n_generics // 2), rng)
    is_new = rng.random(n_generics) < 0.05

    # Makers per generic: 2–8 (1–2 for new drugs); the two demo companies take part in many generics.
    n_makers = np.where(is_new, rng.integers(1, 3, n_generics), rng.integers(2, 9, n_generics))
    slot_generic = np.repeat(np.arange(n_generics), n_makers)
    n_slots = len(slot_generic)
    slot_rank = np.arange(n_slots) - np.repeat(np.cumsum(n_makers) - n_makers, n_makers)
    domestic = len(pool) - 2 - len(FOREIGN)
    start = rng.integers(0, domestic, n_generics)[slot_generic]
    slot_maker = 2 + len(FOREIGN) + (start + slot_rank) % domestic  # distinct makers within a generic
    foreign = rng.integers(2, 2 + len(FOREIGN), n_slots)
    has_ref = (rng.random(n_generics) < 0.55)[slot_generic] & ~is_new[slot_generic]
    slot_maker = np.where((slot_rank == 0) & has_ref, foreign, slot_maker)
    special = rng.random(n_slots)
    slot_maker = np.where((slot_rank == 1) & (special < 0.03), 0, slot_maker)  # Asahi Kasei
    slot_maker = np.where((slot_rank == 1) & (special > 0.97), 1, slot_maker)  # 苏州二叶
    # the same maker twice in one generic is realistic only for different products: keep it simple
    tier = np.where(
        is_new[slot_generic],
        3,
        np.where((slot_rank == 0) & has_ref, 0, np.where(rng.random(n_slots) < 0.62, 1, 2)),
    )  # 0 ref, 1 eval, 2 uneval, 3 new
    tier = np.where(np.isin(slot_maker, (0, 1)) & ~is_new[slot_generic], 2, tier)  # the demo makers: 未过评

    # Base unit price per generic (yuan at the base strength), then per maker by tier, in whole 角.
    base = np.exp(rng.normal(np.log(1.5), 1.1, n_generics))
    cat_factor = np.array([{"injection": 6, "powder": 8, "eye": 10}.get(c, 1) for c in CAT_NAMES])[cats]
    base = base * cat_factor
    tier_lo = np.array([1.6, 1.0, 0.55, 1.0])[tier]
    tier_hi = np.array([3.0, 1.5, 0.95, 1.4])[tier]
    v = base[slot_generic] * rng.uniform(tier_lo, tier_hi)
    dimes = np.maximum(1, np.floor(v * 10)).astype(np.int64)
    dimes = _enforce_tier_order(dimes, slot_generic, tier)
    # a few demo-maker products are priced like the notice's examples (≈ 20× the evaluated price)
    demo_maker = np.isin(slot_maker, (0, 1))
    dimes = np.where(demo_maker & (rng.random(n_slots) < 0.5), dimes * 20, dimes)

    # Products: strengths × packs per maker slot.
    n_strengths = rng.choice([1, 1, 2, 2, 3], n_slots)
    n_packs = rng.choice([1, 2, 2, 3], n_slots)
    per_slot = n_strengths * n_packs
    prod_slot = np.repeat(np.arange(n_slots), per_slot)
    within = np.arange(len(prod_slot)) - np.repeat(np.cumsum(per_slot) - per_slot, per_slot)
    k = within // n_packs[prod_slot]  # strength step: ×2^k
    pack_i = within % n_packs[prod_slot]
    # 4× strength needs whole-yuan base prices to stay exact in cents (1.7² = 2.89)
    k = np.where((k == 2) & (dimes[prod_slot] % 10 != 0), 1, k)

    # Exactly `size` rows: cycle products (different codes) or cut.
    order = np.arange(size) % len(prod_slot) if len(prod_slot) < size else np.arange(size)
    prod_slot, k, pack_i = prod_slot[order], k[order], pack_i[order]
    slot = prod_slot
    g = slot_generic[slot]
    cat = cats[g]

    packs_all = [np.array(CATEGORIES[c][4]) for c in CAT_NAMES]
    pack_offset = rng.integers(0, 100, n_slots)[slot]
    n = np.empty(size, dtype=np.int64)
    for ci, packs in enumerate(packs_all):
        m = cat == ci
        n[m] = packs[(pack_offset[m] + pack_i[m] * 3) % len(packs)]

    strength, family = _strengths(cat, g, k, n_generics, rng)
    factor_num = np.where(family == "volume", np.array([10, 19, 0])[np.minimum(k, 2)], np.array([10, 17, 0])[k])
    cents = dimes[slot] * factor_num * n  # k ∈ {0, 1}: exact (角 × 10 × 1 or × 1.7 → cents)
    k2 = (k == 2) & (family != "volume")
    cents = np.where(k2, (dimes[slot] // 10) * 289 * n, cents)
    cents = np.where((k == 2) & (family == "volume"), (dimes[slot] // 10) * 361 * n, cents)
    cents = np.where(family == "none", dimes[slot] * 10 * n, cents)  # unparsed: one spec text per generic

    # VBP winners: in ~3 % of generics one evaluated maker won the tender at a third of the price.
    vbp_generic = rng.random(n_generics) < 0.03
    first_eval = _first_of_tier(slot_generic, tier, 1)
    vbp_slot = np.zeros(n_slots, dtype=bool)
    vbp_slot[first_eval[vbp_generic[slot_generic[first_eval]]]] = True
    vbp = vbp_slot[slot]
    cents = np.where(vbp, np.maximum(1, cents // 3), cents)

    # A realistic minority is overpriced: 3 % of rows (by default) by 5 %–20×.
    over = rng.random(size) < overpriced_share
    bump = np.exp(rng.uniform(np.log(1.05), np.log(20), size))
    cents = np.where(over & ~vbp, np.ceil(cents * bump).astype(np.int64), cents)

    status_draw = rng.random(size)
    status = np.where(status_draw < 0.02, "暂停", np.where(status_draw < 0.03, "撤网", "挂网")).astype(object)
    status = np.where(rng.random(size) < 0.3, np.where(status == "挂网", "", status), status)

    forms = np.empty(size, dtype=object)
    min_units = np.empty(size, dtype=object)
    pack_units = np.empty(size, dtype=object)
    form_pick = rng.integers(0, 100, size)
    for ci, c in enumerate(CAT_NAMES):
        m = cat == ci
        options = np.array(CATEGORIES[c][1], dtype=object)
        forms[m] = options[form_pick[m] % len(options)]
        min_units[m] = CATEGORIES[c][2]
        pack_units[m] = np.where(n[m] == 1, CATEGORIES[c][2], CATEGORIES[c][3])

    tier_text = _tier_texts(tier[slot], rng)
    product_key = slot * 4096 + k * 1024 + n
    nhsa = np.where(rng.random(n_slots) < 0.7, "", "x")[slot]
    nhsa_code = _nhsa_codes(product_key, nhsa == "")
    codes = np.array([f"{code_prefix}{i:07d}" for i in range(code_offset, code_offset + size)], dtype=object)
    brands = np.array([f"品牌{i}" for i in range(97)], dtype=object)
    trade = np.where(tier[slot] == 0, brands[g % 97], "")

    frame = pd.DataFrame(
        {
            "挂网编号": codes,
            "医保药品编码": nhsa_code,
            "通用名": generic_names[g],
            "商品名": trade,
            "剂型": forms,
            "规格": strength,
            "转换比": _ints_text(n),
            "最小制剂单位": min_units,
            "包装单位": pack_units,
            "生产企业": pool[slot_maker[slot]],
            "上市许可持有人": "",
            "质量层次": tier_text,
            "是否集采中选": np.where(vbp, "是", np.where(rng.random(size) < 0.5, "否", "")),
            "挂网价格": _yuan(cents),
            "挂网状态": status,
        }
    )
    reference = _reference(frame, cents, rng, reference_share)
    return DemoFiles(frame, reference)


def _enforce_tier_order(dimes: np.ndarray, slot_generic: np.ndarray, tier: np.ndarray) -> np.ndarray:
    """Within a generic: 过评 ≤ cheapest 参比, 未过评 ≤ cheapest of 参比/过评/新药 (no spurious flags)."""
    frame = pd.DataFrame({"g": slot_generic, "t": tier, "d": dimes})
    big = np.iinfo(np.int64).max
    ref_min = frame["d"].where(frame["t"] == 0, big).groupby(frame["g"]).transform("min").to_numpy()
    out = np.where(tier == 1, np.minimum(dimes, ref_min), dimes)
    frame["d"] = out
    better_min = frame["d"].where(frame["t"] != 2, big).groupby(frame["g"]).transform("min").to_numpy()
    out = np.where(tier == 2, np.minimum(out, better_min), out)
    return np.maximum(out, 1)


def _first_of_tier(slot_generic: np.ndarray, tier: np.ndarray, wanted: int) -> np.ndarray:
    """Index of the first slot of tier `wanted` per generic, or the generic's first slot."""
    frame = pd.DataFrame({"g": slot_generic, "ok": tier == wanted, "i": np.arange(len(tier))})
    first_ok = frame[frame["ok"]].groupby("g")["i"].first()
    first_any = frame.groupby("g")["i"].first()
    return first_ok.reindex(first_any.index).fillna(first_any).astype(np.int64).to_numpy()


def _strengths(
    cat: np.ndarray, g: np.ndarray, k: np.ndarray, n_generics: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """规格 texts at 2^k × the generic's base strength, and the comparison family per row."""
    size = len(cat)
    out = np.empty(size, dtype=object)
    family = np.full(size, "content", dtype=object)
    mult = 2**k
    gen_pick = rng.integers(0, 1000, n_generics)[g]
    width = rng.random(size) < 0.1  # some specs with full-width colon, as in real uploads
    for ci, c in enumerate(CAT_NAMES):
        m = cat == ci
        if not m.any():
            continue
        kind = CATEGORIES[c][5]
        pick = gen_pick[m]
        if kind == "mass":
            out[m] = _fmt_mass(MASS_BASES[pick % len(MASS_BASES)] * mult[m], rng)
        elif kind == "vol_content":
            ml = np.array([b[0] for b in INJ_BASES])[pick % len(INJ_BASES)] * mult[m]
            mg = np.array([b[1] for b in INJ_BASES])[pick % len(INJ_BASES)] * mult[m]
            volume = _format_unique(ml.astype(float), width[m], lambda a, w: f"{a:g}ml" + ("：" if w else ":"))
            out[m] = (pd.Series(volume) + pd.Series(_fmt_mass(mg, rng))).to_numpy()
        elif kind == "powder":
            base = [POWDER_BASES[p % len(POWDER_BASES)] for p in pick]
            is_iu = np.array([b[0] == "IU" for b in base])
            amount = np.array([b[1] for b in base]) * mult[m]
            texts = np.where(is_iu, _fmt_iu(amount, rng), _fmt_mass(amount, rng))
            out[m] = texts
        elif kind == "granule":
            out[m] = _fmt_mass(GRANULE_BASES[pick % len(GRANULE_BASES)] * mult[m], rng)
        elif kind == "volume":
            vols = (VOLUME_BASES[pick % len(VOLUME_BASES)] * mult[m]).astype(float)
            out[m] = _format_unique(vols, np.zeros(len(vols), dtype=bool), lambda a, _s: f"{a:g}ml")
            family[m] = "volume"
        elif kind == "unparsed":
            out[m] = np.array(UNPARSED, dtype=object)[pick % len(UNPARSED)]
            family[m] = "none"
        else:  # percent eye drops: unparsed, one spec per generic
            out[m] = np.array(PERCENT, dtype=object)[pick % len(PERCENT)]
            family[m] = "none"
    return out, family


def _tier_texts(tier: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.empty(len(tier), dtype=object)
    pick = rng.integers(0, 100, len(tier))
    for t, key in enumerate(("ref", "eval", "uneval", "new")):
        m = tier == t
        options = np.array(TIER_CLASS_TEXTS[key], dtype=object)
        out[m] = options[pick[m] % len(options)]
    return out


def _nhsa_codes(product_key: np.ndarray, has_code: np.ndarray) -> np.ndarray:
    codes = np.array([f"XZ{k:015d}000000" for k in product_key.tolist()], dtype=object)
    return np.where(has_code, codes, "")


def _yuan(cents: np.ndarray) -> np.ndarray:
    return np.array([f"{c // 100}.{c % 100:02d}" for c in cents.astype(np.int64).tolist()], dtype=object)


def _ints_text(values: np.ndarray) -> np.ndarray:
    texts = {v: str(v) for v in np.unique(values).tolist()}
    return np.array([texts[v] for v in values.tolist()], dtype=object)


def _reference(frame: pd.DataFrame, cents: np.ndarray, rng: np.random.Generator, share: float) -> pd.DataFrame:
    """Other provinces' prices for `share` of products (5 % by default): by 医保药品编码 when it has one,
    else by attributes."""
    size = len(frame)
    chosen = np.flatnonzero(rng.random(size) < share)
    per = rng.integers(1, 4, len(chosen))
    rows = np.repeat(chosen, per)
    province = np.array(PROVINCES, dtype=object)[(np.arange(len(rows)) + rng.integers(0, 10, len(rows))) % 10]
    # mostly at or above the local price; one in ten cheaper elsewhere (a 四同 flag)
    factor = np.where(rng.random(len(rows)) < 0.1, rng.uniform(0.8, 0.99, len(rows)), rng.uniform(1.0, 1.3, len(rows)))
    price = np.maximum(1, np.round(cents[rows] * factor)).astype(np.int64)
    sub = frame.iloc[rows]
    code = sub["医保药品编码"].to_numpy()
    by_code = code != ""
    ref = pd.DataFrame(
        {
            "省份": province,
            "医保药品编码": code,
            "通用名": np.where(by_code, "", sub["通用名"].to_numpy()),
            "剂型": np.where(by_code, "", sub["剂型"].to_numpy()),
            "规格": np.where(by_code, "", sub["规格"].to_numpy()),
            "转换比": np.where(by_code, "", sub["转换比"].to_numpy()),
            "生产企业": np.where(by_code, "", sub["生产企业"].to_numpy()),
            "挂网价格": _yuan(price),
        }
    )
    return ref.drop_duplicates(["省份", "医保药品编码", "通用名", "剂型", "规格", "转换比", "生产企业"])


def write_frame(frame: pd.DataFrame, path: Path, fmt: str = "csv") -> Path:
    """CSV as UTF-8 with BOM (Excel-friendly) or XLSX with prices and pack sizes as numbers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.to_csv(path, index=False, encoding="utf-8-sig")
        return path
    import xlsxwriter

    numeric = {i for i, c in enumerate(frame.columns) if c in ("转换比", "挂网价格")}
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet("目录")
    sheet.write_row(0, 0, list(frame.columns))
    columns = [frame[c].tolist() for c in frame.columns]
    write_string, write_number = sheet.write_string, sheet.write_number
    for r, row in enumerate(zip(*columns, strict=True), start=1):
        for c, value in enumerate(row):
            if not value:
                continue
            if c in numeric:
                write_number(r, c, float(value))
            else:
                write_string(r, c, value)
    book.close()
    return path


def _sample_frames(samples: Path) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The shared sample catalogue and reference prices, if the samples folder is present."""
    read = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}
    cat = samples / "catalogue_sample.csv"
    ref = samples / "reference_prices_sample.csv"
    return (
        pd.read_csv(cat, **read) if cat.exists() else None,
        pd.read_csv(ref, **read) if ref.exists() else None,
    )


def _ensure_user(username: str, role: str, company=None, **extra):
    from accounts.models import User

    user, _created = User.objects.get_or_create(username=username, defaults={"role": role, "company": company})
    user.role = role
    user.company = company
    for key, value in extra.items():
        setattr(user, key, value)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def seed_demo(size: int = 20000, seed: int = 42):
    """Idempotent demo: users, the catalogue "湖南 演示目录" (generated + shared sample rows), reference prices.

    Returns (CatalogueVersion, ReferencePriceSet). A second call reuses what the first one imported.
    """
    from django.conf import settings

    from catalogue import selectors, services
    from catalogue.models import CatalogueVersion, ImportStatus, Manufacturer, ReferencePriceSet
    from catalogue.specs import normalise_text

    version = CatalogueVersion.objects.filter(label=DEMO_LABEL, status=ImportStatus.ACTIVE).order_by("-id").first()
    price_set = (
        ReferencePriceSet.objects.filter(label=DEMO_REFERENCE_LABEL, status=ImportStatus.ACTIVE).order_by("-id").first()
    )
    if version is None or price_set is None:
        files = generate_catalogue(size, seed)
        sample_cat, sample_ref = _sample_frames(Path(settings.BASE_DIR) / "catalogue" / "samples")
        catalogue = files.catalogue
        if sample_cat is not None:
            sample_cat = sample_cat[sample_cat["挂网编号"].isin(set(catalogue["挂网编号"])) == False]  # noqa: E712
            catalogue = pd.concat([catalogue, sample_cat[CATALOGUE_HEADER]], ignore_index=True)
        reference = files.reference
        if sample_ref is not None:
            reference = pd.concat([reference, sample_ref[REFERENCE_HEADER]], ignore_index=True)
        folder = Path(settings.PRIVATE_ROOT) / "demo"
        cat_path = write_frame(catalogue, folder / f"demo_catalogue_{size}_{seed}.csv")
        ref_path = write_frame(reference, folder / f"demo_reference_{size}_{seed}.csv")
        if version is None:
            existing = selectors.active_versions("湖南").filter(source_hash=services.file_sha256(cat_path)).first()
            version = existing or services.import_catalogue(cat_path, province="湖南", label=DEMO_LABEL)
        if price_set is None:
            price_set = services.import_reference_prices(ref_path, label=DEMO_REFERENCE_LABEL)

    def company(name: str):
        return Manufacturer.objects.filter(name_norm=normalise_text(name)).first() or Manufacturer.objects.create(
            name=name, name_norm=normalise_text(name)
        )

    _ensure_user("regulator", "regulator")
    _ensure_user("admin", "admin", is_staff=True, is_superuser=True)
    _ensure_user("maker1", "manufacturer", company(MAKER1_COMPANY))
    _ensure_user("maker2", "manufacturer", company(MAKER2_COMPANY))
    return version, price_set


DEMO_LOGINS = (
    ("regulator", "监管人员"),
    ("admin", "管理员"),
    ("maker1", f"生产企业 · {MAKER1_COMPANY}"),
    ("maker2", f"生产企业 · {MAKER2_COMPANY}"),
)
