//! The store's vocabulary: product types with their category path, brands, words, features
//! and typical price. Chinese types are priced in CNY, English types in USD (EUR rows are
//! converted), so a category's prices stay comparable.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Lang {
    Zh,
    En,
}

pub(crate) struct ProductType {
    pub lang: Lang,
    pub category: &'static str,
    pub nouns: &'static [&'static str],
    pub brands: &'static [&'static str],
    pub adjectives: &'static [&'static str],
    /// The dimension the type comes in (capacity, volume, weight, size or colour), one value
    /// in every title: what a variant (DU005) changes. Written the way the matcher reads a
    /// variant dimension (`4L`, `10片装`, `1.7 oz`, `黑色`); empty for types without variants.
    pub sizes: &'static [&'static str],
    /// Other words a title may carry, never of the `sizes` dimension.
    pub specs: &'static [&'static str],
    pub features: &'static [&'static str],
    /// Typical price in the type's home currency (CNY for Chinese, USD for English types).
    pub median: f64,
    pub ident: Ident,
}

/// What tells two products of one type and brand apart in their titles, as real catalogs
/// do it. Patterns: `?` a random capital letter, `#` a random digit, anything else literal.
#[derive(Clone, Copy)]
pub(crate) enum Ident {
    /// Durable goods: a model code (`MB-FB40E511`), in Chinese titles too.
    Model(&'static str),
    /// Apparel, shoes, bags, bedding: a style number (`货号A2LD3191`, `Style #FD2722-002`).
    Style(&'static str),
    /// Consumables: product lines' names and taglines (`水能量`, `冰川水精粹 焕颜沁润`), told
    /// apart further by net content. Each brand pairs names with other taglines, as brands do
    /// not share a line's wording.
    Line(&'static [(&'static str, &'static str)]),
}

macro_rules! ty {
    ($lang:ident, $cat:expr, $nouns:expr, $brands:expr, $adj:expr, $sizes:expr, $specs:expr, $feat:expr, $median:expr, $ident:expr) => {
        ProductType {
            lang: Lang::$lang,
            category: $cat,
            nouns: &$nouns,
            brands: &$brands,
            adjectives: &$adj,
            sizes: &$sizes,
            specs: &$specs,
            features: &$feat,
            median: $median,
            ident: $ident,
        }
    };
}

pub(crate) static TYPES: &[ProductType] = &[
    ty!(
        Zh,
        "服装 > 女装 > 连衣裙",
        ["连衣裙"],
        ["太平鸟", "欧时力", "拉夏贝尔", "森马", "伊芙丽"],
        [
            "碎花", "雪纺", "法式", "修身", "收腰", "复古", "显瘦", "气质"
        ],
        ["黑色", "白色", "红色", "蓝色"],
        ["S码", "M码", "L码", "XL码"],
        [
            "面料柔软亲肤",
            "垂坠感好",
            "收腰设计显瘦",
            "适合通勤约会",
            "可机洗不易变形",
            "夏季透气清凉"
        ],
        219.0,
        Ident::Style("?#??####")
    ),
    ty!(
        Zh,
        "服装 > 男装 > T恤",
        ["T恤", "短袖T恤"],
        ["海澜之家", "森马", "李宁", "优衣库", "美特斯邦威"],
        ["纯棉", "宽松", "圆领", "休闲", "速干", "印花", "百搭"],
        ["白色", "黑色", "灰色", "蓝色"],
        ["M码", "L码", "XL码", "XXL码"],
        [
            "精梳纯棉面料",
            "透气吸汗",
            "不起球不变形",
            "经典圆领设计",
            "多色可选"
        ],
        79.0,
        Ident::Style("??#?####")
    ),
    ty!(
        Zh,
        "运动户外 > 运动鞋 > 跑步鞋",
        ["跑步鞋", "运动鞋"],
        ["李宁", "安踏", "特步", "361度", "匹克"],
        ["轻便", "透气", "减震", "防滑", "耐磨", "男款", "女款"],
        ["黑色", "白色", "灰色"],
        ["39码", "40码", "41码", "42码", "43码"],
        [
            "轻量化鞋面",
            "回弹中底缓震",
            "防滑耐磨橡胶大底",
            "网面透气不闷脚",
            "适合日常慢跑"
        ],
        399.0,
        Ident::Style("????###-#")
    ),
    ty!(
        Zh,
        "数码 > 耳机 > 蓝牙耳机",
        ["蓝牙耳机", "无线耳机"],
        ["华为", "小米", "漫步者", "荣耀", "倍思"],
        ["降噪", "入耳式", "半入耳", "运动", "长续航", "低延迟"],
        ["白色", "黑色", "蓝色"],
        ["标准版", "Pro版"],
        [
            "主动降噪",
            "蓝牙5.3稳定连接",
            "单次续航8小时",
            "通话降噪麦克风",
            "IPX4防水"
        ],
        299.0,
        Ident::Model("??-T###?")
    ),
    ty!(
        Zh,
        "家居日用 > 杯壶 > 保温杯",
        ["保温杯"],
        ["膳魔师", "象印", "富光", "苏泊尔", "哈尔斯"],
        ["不锈钢", "大容量", "便携", "商务", "儿童", "车载"],
        ["350ml", "500ml", "750ml"],
        ["白色", "樱花粉"],
        [
            "316不锈钢内胆",
            "12小时长效保温",
            "一键弹盖",
            "防漏设计",
            "易清洗"
        ],
        129.0,
        Ident::Model("??-???###")
    ),
    ty!(
        Zh,
        "美妆护肤 > 面部护理 > 面膜",
        ["面膜"],
        ["百雀羚", "自然堂", "珀莱雅", "一叶子", "完美日记"],
        ["补水", "保湿", "美白", "修护", "清洁", "舒缓"],
        ["5片装", "10片装", "20片装"],
        ["礼盒装"],
        [
            "深层补水锁水",
            "温和不刺激",
            "精华液满满",
            "适合敏感肌",
            "提亮肤色"
        ],
        89.0,
        Ident::Line(&[
            ("水能量", "冰川水精粹 焕颜沁润"),
            ("玻尿酸", "三重分子 深层锁水"),
            ("烟酰胺", "377精华 亮白淡斑"),
            ("积雪草", "积雪草苷 舒缓泛红"),
            ("胶原蛋白", "重组三型 紧致抗皱"),
            ("人参", "长白山参 滋养焕活"),
            ("樱花", "京都花萃 嫩肤透亮"),
            ("海藻", "深海褐藻 控油清透"),
            ("氨基酸", "温和洁净 细致毛孔"),
            ("熬夜", "急救修护 暗沉专研"),
            ("寡肽", "六胜肽 修护屏障"),
            ("黑绷带", "抗初老 弹润紧致"),
        ])
    ),
    ty!(
        Zh,
        "数码 > 手机通讯 > 智能手机",
        ["手机", "智能手机"],
        ["华为", "小米", "荣耀", "vivo", "OPPO"],
        ["5G", "全网通", "旗舰", "拍照", "游戏", "轻薄"],
        ["128GB", "256GB", "512GB"],
        ["曜石黑", "冰川白"],
        [
            "6.7英寸OLED屏幕",
            "5000mAh大电池",
            "100W快充",
            "影像旗舰",
            "IP68防尘防水"
        ],
        2999.0,
        Ident::Model("???-??##")
    ),
    ty!(
        Zh,
        "家用电器 > 厨房电器 > 电饭煲",
        ["电饭煲"],
        ["美的", "苏泊尔", "九阳", "小熊", "松下"],
        ["智能", "家用", "迷你", "多功能", "预约", "柴火饭"],
        ["3L", "4L", "5L"],
        ["不粘内胆"],
        [
            "IH电磁加热",
            "24小时预约",
            "不粘涂层内胆",
            "一键快煮",
            "多种烹饪模式"
        ],
        299.0,
        Ident::Model("??-??##?###")
    ),
    ty!(
        Zh,
        "家用电器 > 生活电器 > 空气净化器",
        ["空气净化器", "净化器"],
        ["美的", "小米", "格力", "飞利浦", "352"],
        ["家用", "除甲醛", "静音", "智能", "卧室"],
        ["白色", "灰色"],
        ["标准版", "升级版"],
        [
            "HEPA滤网",
            "高效除甲醛",
            "睡眠模式静音",
            "APP智能控制",
            "适用面积60平米"
        ],
        1299.0,
        Ident::Model("KJ###?-??#")
    ),
    ty!(
        Zh,
        "家用电器 > 厨房电器 > 电热水壶",
        ["电热水壶", "烧水壶"],
        ["美的", "苏泊尔", "九阳", "小熊", "小米"],
        ["不锈钢", "家用", "保温", "大容量", "防烫"],
        ["1.5L", "1.7L", "1.8L"],
        ["白色"],
        [
            "304不锈钢内胆",
            "快速烧水",
            "自动断电",
            "防干烧保护",
            "双层防烫"
        ],
        99.0,
        Ident::Model("??-##??##")
    ),
    ty!(
        Zh,
        "食品饮料 > 休闲零食 > 坚果",
        ["每日坚果", "混合坚果"],
        ["三只松鼠", "良品铺子", "百草味", "洽洽", "沃隆"],
        ["原味", "礼盒", "独立包装", "孕妇", "儿童"],
        ["500g", "750g", "1kg"],
        ["礼盒装"],
        [
            "多种坚果科学配比",
            "独立小包装",
            "新鲜烘焙",
            "无添加蔗糖",
            "办公室零食"
        ],
        89.0,
        Ident::Line(&[
            ("经典混合", "巴旦木腰果 科学配比"),
            ("益生菌", "酸奶果粒 活性菌株"),
            ("蔓越莓", "红莓果干 酸甜可口"),
            ("轻烘焙", "低温慢烤 无盐配方"),
            ("黑巧", "可可脂 扁桃仁"),
            ("蜂蜜黄油", "奶香浓郁 碧根果"),
            ("高蛋白", "燕麦脆片 健身代餐"),
            ("儿童成长", "核桃仁 营养早餐"),
            ("椰香", "椰子脆片 夏威夷果"),
            ("抹茶", "宇治茶粉 开心果"),
            ("海盐", "焦糖风味 腰果仁"),
            ("蓝莓", "野生浆果 葡萄干"),
        ])
    ),
    ty!(
        Zh,
        "食品饮料 > 茶叶 > 绿茶",
        ["绿茶", "龙井", "碧螺春"],
        ["西湖牌", "八马", "天福茗茶", "卢正浩", "艺福堂"],
        ["明前", "特级", "新茶", "浓香", "一级"],
        ["100g", "250g", "500g"],
        ["罐装", "礼盒装"],
        ["明前采摘", "手工炒制", "香气清高", "回甘持久", "送礼佳品"],
        168.0,
        Ident::Line(&[
            ("西湖龙井", "核心产区 豆香浓郁"),
            ("狮峰", "核心山场 兰花香型"),
            ("梅家坞", "原产村落 一芽一叶"),
            ("安吉白茶", "安吉溪龙 鲜爽甘甜"),
            ("黄山毛峰", "黄山高山 栗香持久"),
            ("信阳毛尖", "信阳车云山 清香型"),
            ("六安瓜片", "齐山云雾 醇厚回甘"),
            ("太平猴魁", "猴坑核心 兰韵悠长"),
            ("竹叶青", "峨眉高山 竹叶清香"),
            ("洞庭碧螺", "东山洞庭 花果香型"),
            ("都匀毛尖", "都匀雀舌 卷曲秀丽"),
            ("恩施玉露", "恩施蒸青 针形条索"),
        ])
    ),
    ty!(
        Zh,
        "母婴 > 尿裤湿巾 > 纸尿裤",
        ["纸尿裤", "拉拉裤"],
        ["帮宝适", "花王", "好奇", "大王", "妈咪宝贝"],
        ["超薄", "透气", "干爽", "夜用", "婴儿"],
        ["46片", "62片", "84片"],
        ["S码", "M码", "L码", "XL码", "NB码"],
        [
            "超薄透气",
            "瞬吸干爽",
            "柔软亲肤",
            "防侧漏设计",
            "整箱装更划算"
        ],
        129.0,
        Ident::Line(&[
            ("一级帮", "纯净呵护 弱酸亲肤"),
            ("皇家", "御级呵护 羊绒柔软"),
            ("小森林", "天然植萃 柔软透气"),
            ("铂金装", "超薄干爽 3D立体"),
            ("魔法", "超强透气 轻薄芯体"),
            ("心钻装", "瞬吸锁水 钻石网层"),
            ("金装", "柔丝表层 护肤乳液"),
            ("羽感", "羽毛轻盈 棉柔触感"),
            ("启蒙", "学步专用 柔润护臀"),
            ("奢宠", "云朵蓬松 奢华柔软"),
            ("森呼吸", "芦荟精华 清爽透气"),
            ("冰丝", "凉感科技 夏季凉爽"),
        ])
    ),
    ty!(
        Zh,
        "数码 > 电脑整机 > 笔记本电脑",
        ["笔记本电脑", "笔记本", "轻薄本"],
        ["联想", "华为", "小米", "荣耀", "华硕"],
        ["轻薄", "游戏", "商务", "办公", "学生"],
        ["512GB", "1TB"],
        ["14英寸", "16英寸", "银色"],
        [
            "高色域护眼屏",
            "超长续航",
            "全金属机身",
            "指纹解锁",
            "雷电4接口"
        ],
        5499.0,
        Ident::Model("???##?-##")
    ),
    ty!(
        Zh,
        "箱包 > 功能箱包 > 双肩包",
        ["双肩包", "背包"],
        ["新秀丽", "小米", "瑞士军刀", "卡拉羊", "90分"],
        ["大容量", "商务", "通勤", "防水", "学生", "旅行"],
        ["黑色", "灰色", "蓝色"],
        ["15.6英寸"],
        [
            "可放15.6英寸电脑",
            "防泼水面料",
            "多隔层收纳",
            "减压背带",
            "USB充电口"
        ],
        199.0,
        Ident::Style("??####?")
    ),
    ty!(
        Zh,
        "运动户外 > 户外装备 > 帐篷",
        ["帐篷"],
        ["牧高笛", "探路者", "骆驼", "北极狼", "挪客"],
        ["户外", "露营", "自动", "防雨", "双层", "便携"],
        ["绿色", "米色", "灰色"],
        ["2人", "3-4人", "5-8人"],
        [
            "速开免搭建",
            "双层防雨",
            "加厚防潮垫",
            "通风透气",
            "收纳便携"
        ],
        459.0,
        Ident::Model("??#####?")
    ),
    ty!(
        Zh,
        "家居家纺 > 床上用品 > 四件套",
        ["四件套", "床上四件套"],
        ["罗莱", "富安娜", "水星家纺", "梦洁", "博洋"],
        ["纯棉", "全棉", "简约", "北欧", "磨毛", "ins风"],
        ["灰色", "米色", "粉色", "蓝色"],
        ["1.5米床", "1.8米床", "2米床"],
        [
            "精梳全棉",
            "亲肤透气",
            "不起球",
            "活性印染不褪色",
            "四季通用"
        ],
        399.0,
        Ident::Style("??#?####")
    ),
    ty!(
        Zh,
        "个护健康 > 口腔护理 > 电动牙刷",
        ["电动牙刷"],
        ["飞利浦", "欧乐B", "舒客", "小米", "usmile"],
        ["声波", "成人", "情侣", "软毛", "充电式"],
        ["白色", "粉色", "黑色"],
        ["礼盒装"],
        [
            "声波震动清洁",
            "多种清洁模式",
            "智能计时",
            "长续航",
            "IPX7防水"
        ],
        199.0,
        Ident::Model("??-###?")
    ),
    ty!(
        En,
        "Electronics > Audio > Headphones",
        ["Headphones"],
        ["Sony", "Bose", "Sennheiser", "JBL", "Philips"],
        [
            "Wireless",
            "Noise Cancelling",
            "Over-Ear",
            "Bluetooth",
            "Foldable"
        ],
        ["Black", "Silver", "White", "Blue"],
        ["with Carrying Case", "Gift Box"],
        [
            "active noise cancellation",
            "30-hour battery life",
            "USB-C fast charging",
            "multipoint Bluetooth pairing",
            "plush memory-foam ear cushions"
        ],
        149.0,
        Ident::Model("??-####??")
    ),
    ty!(
        En,
        "Shoes > Men > Running Shoes",
        ["Running Shoes"],
        ["Nike", "Adidas", "Asics", "New Balance", "Brooks"],
        ["Lightweight", "Breathable", "Cushioned", "Men's"],
        ["Black", "White", "Grey"],
        ["Size 9", "Size 10", "Size 11"],
        [
            "responsive foam midsole",
            "breathable engineered mesh upper",
            "durable rubber outsole",
            "reflective details for low light"
        ],
        110.0,
        Ident::Style("??####-###")
    ),
    ty!(
        En,
        "Home & Kitchen > Coffee > Coffee Makers",
        ["Coffee Maker", "Espresso Machine"],
        ["Philips", "De'Longhi", "Breville", "Keurig", "Krups"],
        ["Programmable", "12-Cup", "Drip", "Automatic", "Compact"],
        ["Black", "Silver", "White"],
        ["with Milk Frother", "Glass Carafe"],
        [
            "programmable 24-hour timer",
            "keep-warm hot plate",
            "removable water tank",
            "reusable filter basket",
            "auto shut-off"
        ],
        89.0,
        Ident::Model("??###?")
    ),
    ty!(
        En,
        "Electronics > Computers > Laptops",
        ["Laptop", "Notebook"],
        ["Lenovo", "Dell", "HP", "Asus", "Acer"],
        [
            "Thin",
            "Lightweight",
            "Gaming",
            "Business",
            "14\"",
            "15.6\""
        ],
        ["256GB SSD", "512GB SSD", "1TB SSD"],
        ["Backlit Keyboard", "Fingerprint Reader"],
        [
            "15.6\" Full HD IPS display",
            "backlit keyboard",
            "Wi-Fi 6 and Bluetooth 5.2",
            "fingerprint reader",
            "all-day battery"
        ],
        899.0,
        Ident::Model("??##-###??")
    ),
    ty!(
        En,
        "Electronics > Mobile Phones > Smartphones",
        ["Smartphone"],
        ["Samsung", "Google", "Motorola", "OnePlus", "Nokia"],
        ["5G", "Unlocked", "Dual SIM"],
        ["128GB", "256GB", "512GB"],
        ["Midnight Black", "Glacier Blue"],
        [
            "6.5\" AMOLED display",
            "50MP triple camera",
            "5000mAh battery",
            "fast wireless charging"
        ],
        599.0,
        Ident::Model("??-?###?")
    ),
    ty!(
        En,
        "Home & Kitchen > Cookware > Frying Pans",
        ["Frying Pan", "Skillet"],
        ["Tefal", "Lodge", "Calphalon", "WMF", "Scanpan"],
        ["Nonstick", "Cast Iron", "Stainless Steel", "Induction"],
        ["8-inch", "10-inch", "12-inch"],
        ["with Lid", "Oven Safe"],
        [
            "PFOA-free nonstick coating",
            "oven safe to 500F",
            "even heat distribution",
            "stay-cool handle"
        ],
        39.0,
        Ident::Model("??###-??")
    ),
    ty!(
        En,
        "Beauty > Skin Care > Moisturizers",
        ["Moisturizer", "Face Cream"],
        ["CeraVe", "Neutrogena", "Nivea", "Olay", "Clinique"],
        ["Hydrating", "Daily", "Oil-Free", "Fragrance-Free", "Night"],
        ["1.7 oz", "2.5 oz", "12 oz"],
        ["Travel Size"],
        [
            "hyaluronic acid",
            "ceramides to restore the skin barrier",
            "non-comedogenic formula",
            "dermatologist tested"
        ],
        18.0,
        Ident::Line(&[
            ("Hydro Boost", "Water Gel Hyaluronic"),
            ("Ultra Repair", "Barrier Cream Colloidal Oatmeal"),
            ("Regenerist", "Micro-Sculpting Peptide"),
            ("Dramatically Different", "Jelly Formula"),
            ("Resurfacing", "Retinol Night Serum"),
            ("Bright Reveal", "Vitamin C Glow"),
            ("Calming", "Oat Extract Relief"),
            ("Deep Moisture", "Shea Butter Rich"),
            ("Aqua Bomb", "Green Tea Cooling"),
            ("Age Perfect", "Collagen Firming"),
            ("Clear Complexion", "Salicylic Acid Acne"),
            ("Midnight Recovery", "Squalane Lavender"),
        ])
    ),
    ty!(
        En,
        "Sports & Outdoors > Fitness > Yoga Mats",
        ["Yoga Mat", "Exercise Mat"],
        ["Manduka", "Gaiam", "Liforme", "Jade", "Alo"],
        ["Non-Slip", "Extra Thick", "Eco-Friendly", "Travel"],
        ["4mm", "6mm", "8mm"],
        ["Purple", "Black"],
        [
            "non-slip textured surface",
            "carrying strap included",
            "eco-friendly TPE material",
            "extra cushioning for joints"
        ],
        35.0,
        Ident::Line(&[
            ("PRO", "Performance Lifetime Guarantee"),
            ("Harmony", "Natural Rubber Open Cell"),
            ("Align", "Pose Lines Printed"),
            ("Eko", "Tree Rubber Biodegradable"),
            ("Warrior", "Alignment Grid Marks"),
            ("Balance", "Cork Top Antimicrobial"),
            ("Zen", "Dual Layer Cushion"),
            ("Studio", "Closed Cell Hygienic"),
            ("Flow", "Sweat Absorbing Suede"),
            ("Lotus", "Jute Fiber Organic"),
            ("Summit", "Grip Plus Textured"),
            ("Meridian", "Microfiber Towel Top"),
        ])
    ),
    ty!(
        En,
        "Toys & Games > Building Sets > Building Kits",
        ["Building Set", "Building Kit"],
        ["LEGO", "Mega Bloks", "K'NEX", "Playmobil"],
        ["Creative", "STEM", "City", "Space"],
        [],
        ["500 Pieces", "1,200 Pieces", "Ages 8+"],
        [
            "compatible with other major brands",
            "step-by-step instructions",
            "storage box included",
            "encourages creative play"
        ],
        59.0,
        Ident::Model("#####")
    ),
    ty!(
        En,
        "Electronics > Wearables > Smartwatches",
        ["Smartwatch", "Fitness Tracker"],
        ["Garmin", "Samsung", "Fitbit", "Amazfit", "Polar"],
        ["GPS", "Waterproof", "Sport"],
        ["41mm", "45mm"],
        ["Black", "Rose Gold"],
        [
            "built-in GPS",
            "heart rate and SpO2 monitoring",
            "7-day battery life",
            "sleep tracking"
        ],
        249.0,
        Ident::Model("??-###??")
    ),
    ty!(
        En,
        "Home & Kitchen > Small Appliances > Blenders",
        ["Blender"],
        ["Vitamix", "Ninja", "KitchenAid", "Oster", "Blendtec"],
        ["High-Speed", "Countertop", "Personal", "Professional"],
        ["48 oz", "64 oz", "72 oz"],
        ["1200W", "Black"],
        [
            "stainless steel blades",
            "variable speed control",
            "BPA-free container",
            "self-cleaning"
        ],
        99.0,
        Ident::Model("??-###?")
    ),
    ty!(
        En,
        "Clothing > Women > Dresses",
        ["Dress", "Maxi Dress", "Midi Dress"],
        ["Zara", "Mango", "Levi's", "Gap", "Reformation"],
        ["Floral", "Wrap", "Summer", "Casual", "Linen"],
        ["Navy", "Red", "Black", "Green"],
        ["Size S", "Size M", "Size L"],
        [
            "lightweight breathable fabric",
            "adjustable waist tie",
            "machine washable",
            "relaxed fit"
        ],
        59.0,
        Ident::Style("???####")
    ),
    ty!(
        En,
        "Electronics > Cameras > Digital Cameras",
        ["Mirrorless Camera", "Digital Camera"],
        ["Canon", "Nikon", "Sony", "Fujifilm", "Panasonic"],
        ["Compact", "4K", "Full-Frame", "Vlogging"],
        ["Black", "Silver"],
        ["Body Only", "with 18-55mm Lens", "Kit"],
        [
            "24MP sensor",
            "4K video recording",
            "in-body image stabilization",
            "flip-out touchscreen"
        ],
        799.0,
        Ident::Model("???-##??")
    ),
    ty!(
        En,
        "Home & Kitchen > Vacuums > Robot Vacuums",
        ["Robot Vacuum", "Robot Vacuum Cleaner"],
        ["iRobot", "Roborock", "Ecovacs", "Shark", "Eufy"],
        ["Self-Emptying", "Smart", "Wi-Fi", "Quiet"],
        ["Black", "White"],
        ["with Mop", "Pet Hair Kit"],
        [
            "LiDAR navigation",
            "2,000 Pa suction",
            "app and voice control",
            "auto recharge and resume"
        ],
        299.0,
        Ident::Model("??-###?")
    ),
    ty!(
        En,
        "Office Products > Furniture > Office Chairs",
        ["Office Chair", "Desk Chair"],
        ["Herman Miller", "Steelcase", "Hbada", "Sihoo", "Branch"],
        ["Ergonomic", "Mesh", "High-Back", "Adjustable"],
        ["Black", "Grey", "White"],
        ["with Headrest", "with Footrest"],
        [
            "adjustable lumbar support",
            "3D armrests",
            "breathable mesh back",
            "tilt lock"
        ],
        299.0,
        Ident::Model("??-###?")
    ),
    ty!(
        En,
        "Beauty > Oral Care > Electric Toothbrushes",
        ["Electric Toothbrush"],
        ["Philips", "Oral-B", "Quip", "Fairywill"],
        ["Rechargeable", "Sonic", "Smart"],
        ["White", "Black", "Pink"],
        ["2-Pack", "with Travel Case"],
        [
            "2-minute smart timer",
            "pressure sensor",
            "3 brushing modes",
            "travel case included"
        ],
        69.0,
        Ident::Model("??####??")
    ),
    ty!(
        En,
        "Home & Kitchen > Drinkware > Water Bottles",
        ["Water Bottle", "Tumbler"],
        ["Hydro Flask", "Yeti", "Stanley", "Contigo", "Thermos"],
        ["Insulated", "Stainless Steel", "Leak-Proof", "Wide Mouth"],
        ["20 oz", "32 oz", "40 oz"],
        ["Dishwasher Safe"],
        [
            "keeps drinks cold for 24 hours",
            "BPA-free lid",
            "dishwasher safe",
            "fits most cup holders"
        ],
        35.0,
        Ident::Line(&[
            ("All Around", "Flex Straw Lid"),
            ("Rambler", "MagSlider Magnetic"),
            ("Quencher", "FlowState Handle"),
            ("Autoseal", "West Loop Commuter"),
            ("Trail Series", "Sport Cap Ultralight"),
            ("IceFlow", "Flip Straw Carry"),
            ("Aerolight", "Carry Loop Minimal"),
            ("Coastal", "Chug Cap Powder Coat"),
            ("Everyday", "Twist Lid Classic"),
            ("Bamboo", "Handle Cap Wooden"),
            ("Nomad", "Sip Spout Kids"),
            ("Polar", "Double Wall Vacuum"),
        ])
    ),
    ty!(
        En,
        "Sports & Outdoors > Camping > Tents",
        ["Tent", "Camping Tent"],
        ["Coleman", "REI", "Big Agnes", "MSR", "Kelty"],
        ["Backpacking", "Waterproof", "Instant", "Family"],
        ["Green", "Grey", "Orange"],
        ["2-Person", "4-Person", "6-Person"],
        [
            "waterproof rainfly",
            "color-coded poles",
            "mesh ventilation",
            "setup in under 10 minutes"
        ],
        199.0,
        Ident::Model("??-####?")
    ),
];

impl ProductType {
    /// First segment of the category path (`服装`, `Electronics`).
    pub(crate) fn top(&self) -> &'static str {
        self.category.split(" > ").next().unwrap_or(self.category)
    }
}

/// Literal null-like strings (MV002).
pub(crate) const NULL_LIKE: &[&str] = &["N/A", "nan", "null", "None", "-", "暂无", "未知", "无"];
/// Literal test values (MV003).
pub(crate) const TEST_VALUES: &[&str] = &["test", "测试", "dummy"];
/// Literal placeholder titles (TX008).
pub(crate) const PLACEHOLDERS: &[&str] = &["Product Title", "untitled", "商品名称", "New Item"];

/// Chinese titles as they read after being encoded as GBK and decoded as windows-1252
/// (precomputed: the crate carries no encoding tables). All bytes are >= 0xA1 and none is
/// 0xAD, so the result holds no control or soft-hyphen characters.
pub(crate) const GBK_MOJIBAKE: &[(&str, &str)] = &[
    ("华为 无线 蓝牙耳机 降噪", "»ªÎª ÎÞÏß À¶ÑÀ¶ú»ú ½µÔë"),
    ("李宁 男款 跑步鞋 透气", "ÀîÄþ ÄÐ¿î ÅÜ²½Ð¬ Í¸Æø"),
    ("夏季 新款 碎花 连衣裙 女装", "ÏÄ¼¾ ÐÂ¿î Ëé»¨ Á¬ÒÂÈ¹ Å®×°"),
    ("小米 智能 电饭煲 家用", "Ð¡Ã× ÖÇÄÜ µç·¹ìÒ ¼ÒÓÃ"),
    ("美的 电热水壶 不锈钢 大容量", "ÃÀµÄ µçÈÈË®ºø ²»Ðâ¸Ö ´óÈÝÁ¿"),
    ("安踏 轻便 跑步鞋 正品", "°²Ì¤ Çá±ã ÅÜ²½Ð¬ ÕýÆ·"),
    ("官方 旗舰店 面膜 补水 保湿", "¹Ù·½ Æì½¢µê ÃæÄ¤ ²¹Ë® ±£Êª"),
    ("双肩包 大容量 轻便 特价", "Ë«¼ç°ü ´óÈÝÁ¿ Çá±ã ÌØ¼Û"),
    ("华为 笔记本电脑 官方 正品", "»ªÎª ±Ê¼Ç±¾µçÄÔ ¹Ù·½ ÕýÆ·"),
    ("小米 空气净化器 家用 智能", "Ð¡Ã× ¿ÕÆø¾»»¯Æ÷ ¼ÒÓÃ ÖÇÄÜ"),
    ("李宁 修身 T恤 夏季", "ÀîÄþ ÐÞÉí TÐô ÏÄ¼¾"),
    ("纸尿裤 特价 包邮", "Ö½Äò¿ã ÌØ¼Û °üÓÊ"),
];

/// Words shops pad long titles with.
pub(crate) const ZH_TITLE_FILLERS: &[&str] = &[
    "正品",
    "包邮",
    "官方旗舰店",
    "热卖",
    "爆款",
    "限时特价",
    "送礼佳选",
    "七天无理由退换",
    "顺丰发货",
    "品质保证",
    "厂家直销",
    "现货速发",
    "好评如潮",
    "买一送一",
    "学生党必备",
    "家用实惠装",
    "高颜值",
    "网红同款",
    "加厚",
    "升级款",
    "耐用",
    "性价比之王",
];
pub(crate) const EN_TITLE_FILLERS: &[&str] = &[
    "Free Shipping",
    "Best Seller",
    "Gift Idea",
    "2025 Model",
    "Top Rated",
    "Limited Edition",
    "Fast Delivery",
    "Official Store",
    "Genuine",
    "Great Value",
    "Holiday Gift",
    "For Men and Women",
    "Durable",
    "Premium Quality",
    "Upgraded Version",
    "Easy to Clean",
    "Satisfaction Guaranteed",
];
/// What shoppers add to a search when they type a whole sentence.
pub(crate) const ZH_QUERY_FILLERS: &[&str] = &[
    "求推荐",
    "性价比高的",
    "送女朋友",
    "学生党",
    "预算500以内",
    "最好是",
    "今天能发货吗",
    "有没有",
    "哪款好",
    "质量好一点的",
    "不要太贵",
    "急用",
];
pub(crate) const EN_QUERY_FILLERS: &[&str] = &[
    "for my wife",
    "under 200 dollars",
    "free shipping",
    "with warranty",
    "in stock",
    "best rated 2025",
    "fast delivery",
    "gift for dad",
    "that actually works",
    "not too expensive",
    "good reviews",
];

/// Append phrases to `base` until it is longer than `over` characters: first the type's own
/// words and `fillers`, then words of related types, then any type of the same language
/// (each tier shuffled). A phrase is skipped when `ok` rejects the result.
pub(crate) fn pad_words(
    rng: &mut crate::rng::Rng,
    base: String,
    ty: usize,
    fillers: &[&'static str],
    sep: &str,
    over: usize,
    ok: impl Fn(&str) -> bool,
) -> String {
    let t = &TYPES[ty];
    let words = |o: &ProductType| -> Vec<&'static str> {
        o.features
            .iter()
            .chain(o.adjectives)
            .chain(o.specs)
            .copied()
            .collect()
    };
    let mut own = words(t);
    own.extend_from_slice(fillers);
    let related: Vec<&str> = TYPES
        .iter()
        .enumerate()
        .filter(|(i, o)| *i != ty && o.top() == t.top())
        .flat_map(|(_, o)| words(o))
        .collect();
    let rest: Vec<&str> = TYPES
        .iter()
        .enumerate()
        .filter(|(i, o)| *i != ty && o.lang == t.lang && o.top() != t.top())
        .flat_map(|(_, o)| o.features.iter().copied())
        .collect();
    let mut s = base;
    for mut tier in [own, related, rest] {
        rng.shuffle(&mut tier);
        for p in tier {
            if s.chars().count() > over {
                return s;
            }
            let cand = format!("{s}{sep}{p}");
            if ok(&cand) {
                s = cand;
            }
        }
    }
    s
}
