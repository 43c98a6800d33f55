"""Small real datasets that work offline, for the demo, examples and tests.

No medical image set or report corpus ships on PyPI, so these stand in for the
paper's data with real images and real sentences that are already on the
machine:

* :func:`load_digit_images`: scikit-learn's 1,797 handwritten digits as RGB
  images, with prompts describing each digit (zero-shot classification,
  image-text anchors);
* :func:`load_docstring_topics`: real English sentences (the first paragraphs
  of docstrings of installed libraries) labelled by topic (stitching two text
  encoders, text zero-shot classification).
"""

import importlib
import inspect

import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import Bunch

from ._optional import import_optional

__all__ = [
    "load_digit_images",
    "load_docstring_topics",
]

DIGIT_NAMES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
)
DIGIT_TEMPLATES = (
    "a handwritten digit {digit}",
    "a photo of the number {name}",
    "the digit {name}, written by hand",
)

TOPIC_MODULES = {
    "statistics": ("scipy.stats", "statistics"),
    "signal processing": ("scipy.signal", "scipy.fft", "numpy.fft"),
    "files and operating system": (
        "os",
        "shutil",
        "pathlib",
        "os.path",
        "tempfile",
        "glob",
        "subprocess",
    ),
    "networking and email": (
        "urllib.request",
        "urllib.parse",
        "http.client",
        "http.server",
        "http.cookiejar",
        "email.message",
        "email.utils",
        "smtplib",
        "socket",
        "ssl",
        "imaplib",
        "ftplib",
    ),
    "plotting": ("matplotlib.axes", "matplotlib.figure"),
}
TOPIC_PROMPTS = {
    "statistics": [
        "Compute a statistic or run a statistical hypothesis test.",
        "A probability distribution of a random variable.",
    ],
    "signal processing": [
        "Filter a signal or compute its Fourier transform.",
        "Design a digital filter and compute its frequency response.",
    ],
    "files and operating system": [
        "Work with files, directories and paths on the operating system.",
        "Copy, move or delete a file on disk.",
    ],
    "networking and email": [
        "Send a request over the network or an HTTP connection.",
        "Send or parse an e-mail message.",
    ],
    "plotting": [
        "Draw a plot on the figure axes.",
        "Set the colour, label or limits of a chart.",
    ],
}


def load_digit_images(*, size=112):
    """scikit-learn's handwritten digits as RGB images, with class prompts.

    Parameters
    ----------
    size : int or None, default=112
        Side of the returned images, upsampled bilinearly from 8 x 8 (vision
        encoders expect more than 64 pixels); None keeps 8 x 8.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        - ``images``: uint8 array of shape (1797, size, size, 3);
        - ``target``: int array of shape (1797,), the digit;
        - ``target_names``: the ten digits;
        - ``prompts``: digit → three prompts ("a handwritten digit 3", …);
        - ``descriptions``: str array of shape (1797,), each image's first
          prompt, for image-text anchors.

    Examples
    --------
    >>> from skalign.datasets import load_digit_images
    >>> digits = load_digit_images(size=32)
    >>> digits.images.shape, digits.images.dtype
    ((1797, 32, 32, 3), dtype('uint8'))
    >>> digits.prompts[3][0], str(digits.descriptions[0])
    ('a handwritten digit 3', 'a handwritten digit 0')
    """
    digits = load_digits()
    gray = np.round(digits.images * (255 / 16)).astype(np.uint8)
    if size is not None:
        Image = import_optional("PIL.Image", purpose="Resizing the digits (size=)")
        gray = np.stack(
            [
                np.asarray(Image.fromarray(g).resize((size, size), Image.BILINEAR))
                for g in gray
            ]
        )
    prompts = {
        int(digit): [
            t.format(digit=digit, name=DIGIT_NAMES[digit]) for t in DIGIT_TEMPLATES
        ]
        for digit in digits.target_names
    }
    return Bunch(
        images=np.repeat(gray[..., None], 3, axis=-1),
        target=digits.target,
        target_names=digits.target_names,
        prompts=prompts,
        descriptions=np.array([prompts[int(d)][0] for d in digits.target]),
    )


def load_docstring_topics(n_per_topic=200, *, random_state=0):
    """Real sentences labelled by topic, assembled from installed libraries.

    The first paragraphs (25 to 200 characters) of the docstrings of public
    functions and methods of libraries installed with skalign, labelled by the
    topic of their library: statistics (``scipy.stats``, ``statistics``),
    signal processing, files and operating system, networking and e-mail,
    plotting (matplotlib). Written by people, varied in wording, and grouped by
    meaning: enough for real text encoders to separate the topics. The exact
    sentences depend on the installed library versions.

    Parameters
    ----------
    n_per_topic : int, default=200
        Distinct sentences drawn per topic.
    random_state : int, default=0
        Seeds the draw.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        - ``texts``: str array of shape (5 * n_per_topic,);
        - ``target``: str array, the topic of each sentence;
        - ``target_names``: the five topics;
        - ``prompts``: topic → two prompts describing it.

    Examples
    --------
    >>> from skalign.datasets import load_docstring_topics
    >>> topics = load_docstring_topics(20)
    >>> len(topics.texts), sorted(set(topics.target)) == sorted(topics.target_names)
    (100, True)
    """
    rng = np.random.default_rng(random_state)
    texts, labels, seen = [], [], set()
    for topic, modules in TOPIC_MODULES.items():
        sentences = [
            s for module in modules for s in _summaries(module) if s not in seen
        ]
        sentences = list(dict.fromkeys(sentences))
        seen.update(sentences)
        if len(sentences) < n_per_topic:
            raise ValueError(
                f"Only {len(sentences)} distinct sentences about {topic!r} are "
                f"installed; ask for n_per_topic <= {len(sentences)}."
            )
        chosen = rng.choice(len(sentences), size=n_per_topic, replace=False)
        texts += [sentences[i] for i in sorted(chosen)]
        labels += [topic] * n_per_topic
    return Bunch(
        texts=np.array(texts),
        target=np.array(labels),
        target_names=list(TOPIC_MODULES),
        prompts={topic: list(p) for topic, p in TOPIC_PROMPTS.items()},
    )


def _summaries(module_name):
    """First paragraphs (25 to 200 characters) of the module's public callables."""
    module = importlib.import_module(module_name)
    root = module_name.split(".")[0]
    objects = []
    for name in sorted(dir(module)):
        if name.startswith("_"):
            continue
        obj = getattr(module, name)
        objects.append(obj)
        if inspect.isclass(obj) and getattr(obj, "__module__", "").startswith(root):
            objects += [
                getattr(obj, m, None) for m in sorted(dir(obj)) if not m.startswith("_")
            ]
    sentences = []
    for obj in objects:
        doc = inspect.getdoc(obj) if callable(obj) else None
        if not doc:
            continue
        first = " ".join(doc.strip().split("\n\n")[0].split())
        if 25 <= len(first) <= 200 and not first.startswith(
            getattr(obj, "__name__", "") + "("
        ):
            sentences.append(first)
    return sentences
