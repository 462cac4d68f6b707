"""Sentiment engines behind one interface: `predict(texts, brand=None) -> [(label, score)]`.

`load_engine(config.sentiment)` builds the configured engine. Engines are imported lazily, so
importing this package costs nothing (no numpy/scikit-learn, no torch/transformers).

    engine = load_engine(SentimentConfig())            # the offline model shipped with brandpulse
    engine.predict(["Ужасный сервис, деньги списали дважды"], brand="Сбербанк")
    # -> [("negative", 0.97)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from monitor.errors import BrandpulseError

if TYPE_CHECKING:
    from monitor.config import SentimentConfig

__all__ = ["LABELS", "ModelLoadError", "SentimentEngine", "SentimentError", "load_engine"]

# Every engine answers with one of these; score is the probability of that label.
LABELS = ("negative", "neutral", "positive")


class SentimentError(BrandpulseError):
    """A sentiment engine cannot be built or cannot score."""


class ModelLoadError(SentimentError):
    """A model is missing, unreadable, or its labels cannot be mapped to ours."""


@runtime_checkable
class SentimentEngine(Protocol):
    name: str

    def predict(self, texts: Sequence[str], brand: str | None = None) -> list[tuple[str, float]]:
        """One (label, probability of that label) per text, in input order.

        `brand`: the brand the texts are about; engines that can use it score the sentiment
        toward the brand, the others ignore it. Empty or blank texts get a label too.
        """
        ...


def load_engine(config: SentimentConfig) -> SentimentEngine:
    """Build the engine `config.engine` names; raise ModelLoadError with a one-line reason."""
    if config.engine == "offline":
        from sentiment.offline import load_model

        # `model` may point the offline engine at another trained artifact directory.
        return load_model(config.model)
    if config.engine == "hybrid":
        from sentiment.hybrid import load_hybrid

        # `model` may point at another hybrid artifact directory (python -m sentiment.train_hybrid).
        return load_hybrid(config.model, threads=config.threads)
    if config.engine == "e5":
        try:
            import torch  # noqa: F401
        except ImportError:
            # The accurate engine needs torch; without it brandpulse still runs on the fast model.
            import logging

            logging.getLogger(__name__).warning(
                "sentiment.engine is 'e5' but torch is not installed: using the offline model"
            )
            from sentiment.offline import load_model as load_offline

            return load_offline(None)
        from sentiment.e5_engine import load_e5

        # `model` may point at another artifact (python -m sentiment.train_e5 --export DIR).
        return load_e5(
            config.model, threads=config.threads, quantize=config.quantize, precision=config.precision
        )
    if config.engine == "transformers":
        if not config.model:
            raise ModelLoadError(
                "sentiment.engine is 'transformers' but sentiment.model is empty: "
                "set it to a Hugging Face model id or a local model directory"
            )
        from sentiment.transformers_engine import TransformersEngine

        return TransformersEngine.from_config(config)
    raise ModelLoadError(
        f"unknown sentiment engine {config.engine!r}; expected 'e5', 'offline', 'hybrid' or 'transformers'"
    )
