"""The synthetic shop: order exports that look like a real shop's, for demo, tests, benchmarks."""

from bot.synth.generate import PRESETS, generate

__all__ = ["PRESETS", "generate"]
