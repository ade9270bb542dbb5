"""Benchmark: `sigtriage analyze` against the hashing floor on a large signed PE.

Generates a signed PE of --size MiB (default 256) with the synthetic PKI (needs osslsigncode), then measures,
in this one process and run:
  * the reference: a plain SHA-256 pass over the whole file (1 MiB reads, hashlib), the floor any verifier pays;
  * analyze_file() on the same file, default hash profile and --all-hashes, with the trust store preloaded;
  * peak RSS of a whole `sigtriage analyze --json FILE` process (interpreter, trust store and all).
Reports medians over --runs and the ratios analyze/reference. The file is read from the page cache in every
run (a warm-up read first), so the ratio compares CPU work, not the disk.

    .venv/bin/python bench/bench_analyze.py [--size 256] [--runs 5] [--out bench/out]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "test_data" / "synthetic"))

import minipe  # noqa: E402
from build import sign_file  # noqa: E402

from sigtriage.extract.analyze import Options, analyze_file  # noqa: E402
from sigtriage.extract.trust import load_trust_store  # noqa: E402


def make_signed_pe(workdir: Path, size_mib: int) -> tuple[Path, Path]:
    unsigned = workdir / "big-unsigned.exe"
    minipe.write_pe(unsigned, text_size=size_mib << 20, company="sigtriage bench", product="bench")
    signed = sign_file(unsigned, workdir)
    return signed.path, signed.anchor


def sha256_pass(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def paired(candidate: Callable[[], object], reference: Callable[[], object], runs: int) -> dict[str, float]:
    """Alternate reference and candidate (R C R C ...) and take the median of the per-pair ratios, so that a
    machine whose speed drifts during the run (shared cores) still gives a fair ratio."""
    pairs = [(_once(reference), _once(candidate)) for _ in range(runs)]
    return {
        "reference_s": statistics.median(r for r, _ in pairs),
        "candidate_s": statistics.median(c for _, c in pairs),
        "ratio": statistics.median(c / r for r, c in pairs),
        "ratio_min": min(c / r for r, c in pairs),
        "ratio_max": max(c / r for r, c in pairs),
    }


def peak_rss_mib(args: list[str]) -> float:
    code = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256, help="MiB of section data (default 256)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sigtriage-bench-") as tmp:
        path, anchor = make_signed_pe(Path(tmp), args.size)
        trust = load_trust_store((anchor,))
        sha256_pass(path)  # warm the page cache
        report = analyze_file(path, trust)
        assert report.status.value == "valid", report.status
        results: dict[str, object] = {"file_bytes": path.stat().st_size, "runs": args.runs}
        reference = lambda: sha256_pass(path)  # noqa: E731
        results["default"] = paired(lambda: analyze_file(path, trust), reference, args.runs)
        results["all_hashes"] = paired(lambda: analyze_file(path, trust, Options(all_hashes=True)), reference,
                                       args.runs)
        cli = [str(Path(sys.executable).parent / "sigtriage"), "analyze", "--json", "--trust-anchor", str(anchor)]
        results["peak_rss_mib_default"] = peak_rss_mib([*cli, str(path)])
        results["peak_rss_mib_all_hashes"] = peak_rss_mib([*cli, "--all-hashes", str(path)])
        results["bench_process_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "analyze.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    default, full = results["default"], results["all_hashes"]
    assert isinstance(default, dict) and isinstance(full, dict)
    print(f"ratio analyze/sha256 (median of pairs): default {default['ratio']:.2f} "
          f"[{default['ratio_min']:.2f}..{default['ratio_max']:.2f}] (target <= 1.3), all hashes {full['ratio']:.2f}; "
          f"peak RSS {results['peak_rss_mib_default']:.0f} MiB (target <= 100)")


if __name__ == "__main__":
    main()
