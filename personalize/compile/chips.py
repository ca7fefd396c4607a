"""Per-chip figures of the TPU generations a slice name can name, with where each figure comes from.

Bandwidths are bytes per second; `ici_bytes_per_second` is one direction, all links of the chip together (the
published figures are bidirectional; a collective's bytes leave a chip in one direction).
"""

import dataclasses

GIB = 2**30


@dataclasses.dataclass(frozen=True)
class Chip:
    name: str
    peak_bf16_flops: float
    hbm_bytes: int
    hbm_bytes_per_second: float
    ici_bytes_per_second: float
    megacore: bool  # two TensorCores that libtpu can present as one device ("megacore" chip configuration)
    source: str


CHIPS = {
    "v4": Chip(
        name="TPU v4", peak_bf16_flops=275e12, hbm_bytes=32 * GIB, hbm_bytes_per_second=1200e9,
        ici_bytes_per_second=300e9, megacore=True,
        source="cloud.google.com/tpu/docs/v4 (275 TFLOP/s bf16, 32 GiB HBM2 at 1,200 GB/s); Jouppi et al., "
               "ISCA 2023 (6 ICI links of 50 GB/s each way)",
    ),
    "v5e": Chip(
        name="TPU v5e", peak_bf16_flops=197e12, hbm_bytes=16 * GIB, hbm_bytes_per_second=819e9,
        ici_bytes_per_second=200e9, megacore=False,
        source="docs.cloud.google.com/tpu/docs/v5e (197 TFLOP/s bf16, 16 GiB HBM at 819 GB/s, 400 GB/s "
               "bidirectional ICI)",
    ),
    "v5p": Chip(
        name="TPU v5p", peak_bf16_flops=459e12, hbm_bytes=95 * GIB, hbm_bytes_per_second=2765e9,
        ici_bytes_per_second=600e9, megacore=True,
        source="docs.cloud.google.com/tpu/docs/v5p (459 TFLOP/s bf16, 95 GiB HBM at 2,765 GB/s, 1,200 GB/s "
               "bidirectional ICI)",
    ),
    "v6e": Chip(
        name="TPU v6e", peak_bf16_flops=918e12, hbm_bytes=32 * GIB, hbm_bytes_per_second=1638e9,
        ici_bytes_per_second=400e9, megacore=False,
        source="docs.cloud.google.com/tpu/docs/v6e (918 TFLOP/s bf16, 32 GB HBM at 1,638 GB/s, 800 GB/s "
               "bidirectional ICI)",
    ),
}
