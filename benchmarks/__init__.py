"""``python -m benchmarks [provisioning|routing]``: ratios against baselines of the same run.

Every figure is a median of several runs, printed beside the baseline measured in
the same process on the same machine. The benchmarks use their own database
(``<dev name>_bench``, created at the start and dropped at the end), never the
development or the test database. See docs/benchmarks.md.
"""
