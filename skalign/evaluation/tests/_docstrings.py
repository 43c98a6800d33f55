"""A labelled set of real English sentences, assembled offline.

The first paragraph of the docstrings of public functions and methods of
libraries installed here, labelled by the topic of the library they come from
(statistics, signal processing, files and the operating system, networking and
e-mail, plotting). Written by people, varied in wording, and semantically
grouped: enough for real text encoders to separate the topics, as a stand-in
for the paper's labelled medical data.
"""

import importlib
import inspect

import numpy as np

TOPICS = {
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

# Prompts describing each topic, for zero-shot classification.
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


def docstring_corpus(n_per_topic, *, random_state=0):
    """Return ``(texts, labels)``: ``n_per_topic`` distinct sentences per topic."""
    rng = np.random.default_rng(random_state)
    texts, labels, seen = [], [], set()
    for topic, modules in TOPICS.items():
        sentences = [
            s for module in modules for s in _summaries(module) if s not in seen
        ]
        sentences = list(dict.fromkeys(sentences))
        seen.update(sentences)
        if len(sentences) < n_per_topic:
            raise ValueError(
                f"Only {len(sentences)} sentences about {topic!r}; ask for fewer."
            )
        chosen = rng.choice(len(sentences), size=n_per_topic, replace=False)
        texts += [sentences[i] for i in sorted(chosen)]
        labels += [topic] * n_per_topic
    return np.array(texts), np.array(labels)


def _summaries(module_name):
    """First paragraphs (25 to 200 characters) of the module's public callables."""
    module = importlib.import_module(module_name)
    objects = []
    for name in sorted(dir(module)):
        if name.startswith("_"):
            continue
        obj = getattr(module, name)
        objects.append(obj)
        root = module_name.split(".")[0]
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
        if 25 <= len(first) <= 200 and not first.startswith(_name(obj) + "("):
            sentences.append(first)
    return sentences


def _name(obj):
    return getattr(obj, "__name__", "")
