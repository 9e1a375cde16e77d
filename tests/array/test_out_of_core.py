"""Arrays larger than memory stay within bounded memory (peak RSS measured in a fresh process).

These are slow (minutes on a 2-core machine): run with ``pytest -m slow``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

GIB = 2**30


def peak_rss_of(code: str, timeout: int = 1200) -> tuple[int, str]:
    """Run ``code`` in a fresh interpreter; return (peak RSS in bytes, stdout)."""
    wrapped = code + textwrap.dedent(
        """
        import resource
        print("PEAK", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapped], capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, out.stderr[-3000:]
    peak = int(out.stdout.split("PEAK")[1].split()[0])
    return peak, out.stdout


@pytest.mark.timeout(1800)
def test_32_gb_random_mean_under_2_gib():
    code = textwrap.dedent(
        """
        import chunkwise.array as da
        x = da.random.random((200_000, 20_000), chunks=(10_000, 2_000))
        assert x.nbytes == 32e9
        m = float(x.mean().compute())
        assert abs(m - 0.5) < 1e-3, m
        print("MEAN", m)
        """
    )
    peak, _ = peak_rss_of(code)
    assert peak < 2 * GIB, f"peak RSS {peak / GIB:.2f} GiB"


@pytest.mark.timeout(3000)
def test_zarr_pipeline_read_elementwise_reduce_and_write_under_2_gib(tmp_path):
    pytest.importorskip("zarr")
    code = textwrap.dedent(
        f"""
        import numpy as np
        import chunkwise.array as da
        src = {str(tmp_path / "src.zarr")!r}
        dst = {str(tmp_path / "dst.zarr")!r}
        # 4 GB on disk per array (twice the 2 GiB bound); the benchmark runs ~10 GB.
        x = da.random.default_rng(0).random((40_000, 12_500), chunks=(5_000, 2_500))
        x.to_zarr(src)
        y = da.from_zarr(src)
        z = np.sqrt(y) * 2 + 1
        total = float(z.mean().compute())
        z.to_zarr(dst)
        check = da.from_zarr(dst)
        assert check.shape == (40_000, 12_500)
        assert abs(float(check[:100, :100].mean().compute()) - total) < 0.05
        print("MEAN", total)
        """
    )
    peak, _ = peak_rss_of(code, timeout=1800)
    assert peak < 2 * GIB, f"peak RSS {peak / GIB:.2f} GiB"
