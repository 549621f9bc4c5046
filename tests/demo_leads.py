"""Customers to share between the demo group's stores (tests that run on `flask leadshare demo`)."""

CUSTOMERS = [  # (latitude, longitude): where the customers live
    (31.2304, 121.4737),  # 上海
    (39.9042, 116.4074),  # 北京
    (23.1291, 113.2644),  # 广州
    (22.5431, 114.0579),  # 深圳
    (30.5728, 104.0668),  # 成都
    (30.2741, 120.1551),  # 杭州
]
REFERRERS = ["sz01", "gz01", "sh01", "bj01"]  # demo stores whose staff share them
