"""沁源县's towns and townships after the 2021-03-05 adjustment, with villages and communities.

Town names are the real ones (DOMAIN.md); the village lists are illustrative for the demo and are
not an authoritative gazetteer.
"""

from __future__ import annotations

COUNTY = "沁源县"
REGION_CODE = "140431"

TOWNS: dict[str, tuple[str, ...]] = {
    "沁河镇": ("城关社区", "西关村", "东关村", "南石村", "李元村", "古寨村", "才子坪村", "交口村"),
    "郭道镇": ("郭道村", "沁河村", "马森村", "南洪林村", "定阳村", "北沟村"),
    "灵空山镇": ("灵空山村", "土岭上村", "王家湾村", "南庄村", "寺沟村"),
    "王和镇": ("王和村", "阎寨村", "后沟村", "古寨村", "李家庄村"),
    "王陶镇": ("王陶村", "南峪村", "大林村", "马西村", "新店村"),
    "景凤镇": ("景凤村", "官滩村", "马兰村", "琴峪村", "石渠村"),
    "中峪乡": ("中峪村", "南泉村", "北泉村", "石壁村"),
    "法中乡": ("法中村", "赤石村", "前庄村", "后庄村"),
    "交口乡": ("交口村", "韩家沟村", "南沟村", "北坡村"),
    "聪子峪乡": ("聪子峪村", "沟口村", "东沟村", "西坡村"),
    "韩洪乡": ("韩洪村", "上庄村", "下庄村", "柳湾村"),
    "赤石桥乡": ("赤石桥村", "新庄村", "河西村", "河东村"),
}
TOWN_NAMES: tuple[str, ...] = tuple(TOWNS)
