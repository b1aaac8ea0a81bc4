#!/usr/bin/env python3
"""Writes N citizens as JSON lines (the `qrid issue --claims -` input), deterministic, with
Vietnamese names and addresses of realistic length. Usage: gen_citizens.py N > citizens.jsonl"""
import json, random, sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
rng = random.Random(169)
family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
middle = ["Thị", "Văn", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc"]
given = ["An", "Bình", "Châu", "Dũng", "Hà", "Hải", "Hương", "Khai", "Lan", "Long", "Mai", "Nam", "Phúc", "Quân", "Thảo", "Trang", "Tuấn", "Yến"]
streets = ["Phố Nguyễn Trãi", "Đường Lê Lợi", "Phố Hàng Bài", "Đường Trần Phú", "Phố Huế"]
wards = ["Phường Thượng Đình", "Phường Bến Nghé", "Phường Tràng Tiền", "Xã Đông Hội"]
districts = ["Quận Thanh Xuân", "Quận 1", "Quận Hoàn Kiếm", "Huyện Đông Anh"]
cities = ["Hà Nội", "Thành phố Hồ Chí Minh", "Đà Nẵng", "Hải Phòng"]
out = sys.stdout
for i in range(n):
    addr = lambda: f"Số {rng.randint(1, 300)} {rng.choice(streets)}, {rng.choice(wards)}, {rng.choice(districts)}, {rng.choice(cities)}"
    c = {
        "id_number": f"{i:012d}",
        "full_name": f"{rng.choice(family)} {rng.choice(middle)} {rng.choice(given)}",
        "date_of_birth": f"{rng.randint(1930, 2010)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "sex": rng.choice("MF"),
        "nationality": "VN",
        "place_of_origin": addr(),
        "place_of_residence": addr(),
        "photo_sha256": "%064x" % rng.getrandbits(256),
    }
    out.write(json.dumps(c, ensure_ascii=False) + "\n")
