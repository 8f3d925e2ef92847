"""``trio-chat bench``: load a running server and measure what it delivers."""

from trio_chat.bench.load import BenchError as BenchError
from trio_chat.bench.options import BenchOptions as BenchOptions
from trio_chat.bench.report import table as table
from trio_chat.bench.runner import run_bench as run_bench
